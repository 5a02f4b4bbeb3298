package ui

import (
	"html/template"
	"slices"
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
