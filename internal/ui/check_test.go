package ui

import (
	"go/ast"
	"go/parser"
	"go/token"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestTemplateKeys(t *testing.T) {
	funcs := template.FuncMap{"t": func(lang, key string) string { return key }}
	tmpl := template.Must(template.New("page.html").Funcs(funcs).Parse(
		`{{.T.a}}{{define "content"}}{{range .Data}}{{$.T.b}}{{else}}{{.T.c}}{{end}}` +
			`{{if eq .Lang "vi"}}{{t $.Lang "d"}}{{end}}{{with .Data}}{{t $.Lang .Label}}{{.Label | t $.Lang}}{{end}}` +
			`{{template "x" .T.e}}{{printf "%s" (print .T.f)}}{{.Data.T}}{{end}}`))
	keys, err := TemplateKeys(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range keys {
		got = append(got, k)
	}
	slices.Sort(got)
	if want := []string{"a", "b", "c", "d", "e", "f"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if !slices.Equal(keys["b"], []string{"content"}) {
		t.Errorf("b: got %v, want [content]", keys["b"])
	}

	for _, src := range []string{`{{index .T .Data.Key}}`, `{{index $.T "a"}}`, `{{t "a"}}`} {
		bad := template.Must(template.New("bad.html").Funcs(funcs).Parse(src))
		if _, err := TemplateKeys(bad); err == nil {
			t.Errorf("%s: got no error", src)
		}
	}
}

// Go code that names a message by a string literal names one that
// exists. The typed IDs are checked at start-up; this covers the
// packages that still pass strings: every literal passed to a method
// named T, Error, Render, Text, t, render or error that looks like a key
// (and is not the name of a page), and every literal of the err_ and
// msg_ families anywhere.
func TestGoLiteralKeys(t *testing.T) {
	c, err := Load(Shipped())
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join("..", "..")
	pages := map[string]bool{}
	htmls, _ := filepath.Glob(filepath.Join(root, "templates", "*.html"))
	for _, p := range htmls {
		pages[strings.TrimSuffix(filepath.Base(p), ".html")] = true
	}
	if len(pages) == 0 {
		t.Fatal("no templates found")
	}
	keyLike := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9-]+)+$`)
	family := regexp.MustCompile(`^(admin_)?(err|msg)_[a-z0-9_-]*[a-z0-9]$`)
	methods := map[string]bool{"T": true, "Error": true, "Render": true, "Text": true, "t": true, "render": true, "error": true}
	check := func(fset *token.FileSet, lit *ast.BasicLit) {
		s, err := strconv.Unquote(lit.Value)
		if err != nil || !keyLike.MatchString(s) || pages[s] {
			return
		}
		if _, ok := c.Lookup(DefaultLocale, s); !ok {
			t.Errorf("%s: message key %q is in no locale", fset.Position(lit.Pos()), s)
		}
	}
	checked := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, src, 0)
		if err != nil {
			return err
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && methods[sel.Sel.Name] && !isIdent(sel.X, "http") {
					for _, a := range n.Args {
						if lit, ok := a.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							check(fset, lit)
						}
					}
				}
			case *ast.BasicLit:
				if s, err := strconv.Unquote(n.Value); n.Kind == token.STRING && err == nil && family.MatchString(s) {
					check(fset, n)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked %d Go files; is the module root %s?", checked, root)
	}
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}
