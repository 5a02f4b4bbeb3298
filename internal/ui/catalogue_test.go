package ui

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// shippedFS copies the shipped files into a map a test can change.
func shippedFS(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(Shipped(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Shipped(), p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestShipped(t *testing.T) {
	c, err := Load(Shipped())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Locales(), []string{"vi", "en"}; !slices.Equal(got, want) {
		t.Errorf("locales: got %v, want %v", got, want)
	}
	if got := ShippedLocales(); !slices.Equal(got, c.Locales()) {
		t.Errorf("ShippedLocales: got %v, want %v", got, c.Locales())
	}
	for _, tt := range []struct {
		lang string
		id   ID
		want string
	}{
		{"vi", ErrGeneric, "Đã có lỗi xảy ra. Vui lòng quay lại cổng dịch vụ và thử lại."},
		{"en", ErrThrottled, "Too many failed attempts. Please try again in %s."},
		{"en", LanguageName, "English"},
		{"vi", LanguageName, "Tiếng Việt"},
		{"fr", ErrTitle, "Không thể tiếp tục"}, // an unknown language gets the default
	} {
		if got := c.Text(tt.lang, tt.id); got != tt.want {
			t.Errorf("Text(%s, %s): got %q, want %q", tt.lang, tt.id, got, tt.want)
		}
	}
}

// Load refuses every kind of broken catalogue, naming the key, the
// locale and the file, so a translator can fix it.
func TestLoadRefuses(t *testing.T) {
	tests := []struct {
		name   string
		change func(m fstest.MapFS)
		want   []string
	}{
		{"a key missing in one locale", func(m fstest.MapFS) {
			m["en/common.json"] = drop(t, m["en/common.json"], "err_not_found")
		}, []string{"locale en lacks key err_not_found", "vi/common.json"}},
		{"a typed ID missing in every locale", func(m fstest.MapFS) {
			m["en/login.json"] = drop(t, m["en/login.json"], "err_throttled")
			m["vi/login.json"] = drop(t, m["vi/login.json"], "err_throttled")
		}, []string{"locale vi lacks key err_throttled, used by a typed ID", "locale en lacks key err_throttled"}},
		{"a key in two files", func(m fstest.MapFS) {
			m["en/extra.json"] = &fstest.MapFile{Data: []byte(`{"site_name": "CitizenID"}`)}
		}, []string{"locale en: key site_name is defined in en/common.json and again in en/extra.json"}},
		{"a key twice in one file", func(m fstest.MapFS) {
			m["en/extra.json"] = &fstest.MapFile{Data: []byte(`{"x_a": "A", "x_a": "B"}`)}
			m["vi/extra.json"] = &fstest.MapFile{Data: []byte(`{"x_a": "A"}`)}
		}, []string{"key x_a is defined in en/extra.json and again in en/extra.json"}},
		{"an empty text", func(m fstest.MapFS) {
			m["en/extra.json"] = &fstest.MapFile{Data: []byte(`{"x_a": " "}`)}
			m["vi/extra.json"] = &fstest.MapFile{Data: []byte(`{"x_a": "A"}`)}
		}, []string{"en/extra.json: key x_a has no text"}},
		{"fmt verbs that differ", func(m fstest.MapFS) {
			m["en/extra.json"] = &fstest.MapFile{Data: []byte(`{"x_a": "wait %d"}`)}
			m["vi/extra.json"] = &fstest.MapFile{Data: []byte(`{"x_a": "chờ %s"}`)}
		}, []string{"en/extra.json: key x_a has verbs [%d], the default locale [%s]"}},
		{"a text that is not a string", func(m fstest.MapFS) {
			m["en/extra.json"] = &fstest.MapFile{Data: []byte(`{"x_a": 1}`)}
		}, []string{"en/extra.json: key x_a: the text must be a string"}},
		{"not an object", func(m fstest.MapFS) {
			m["en/extra.json"] = &fstest.MapFile{Data: []byte(`["x_a"]`)}
		}, []string{"en/extra.json: want one object"}},
		{"a bad key", func(m fstest.MapFS) {
			m["en/extra.json"] = &fstest.MapFile{Data: []byte(`{"X a": "A"}`)}
		}, []string{`en/extra.json: key "X a"`}},
		{"a bad language tag", func(m fstest.MapFS) {
			m["EN_gb/common.json"] = &fstest.MapFile{Data: []byte(`{}`)}
		}, []string{`"EN_gb" is not a language tag`}},
		{"no default locale", func(m fstest.MapFS) {
			for p := range m {
				if strings.HasPrefix(p, "vi/") {
					delete(m, p)
				}
			}
		}, []string{"the default locale vi is missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := shippedFS(t)
			tt.change(m)
			_, err := Load(m)
			if err == nil {
				t.Fatal("got no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %v, want it to say %q", err, w)
				}
			}
		})
	}
}

// drop removes the line of key from a locale file.
func drop(t *testing.T, f *fstest.MapFile, key string) *fstest.MapFile {
	t.Helper()
	var out []string
	for _, line := range strings.Split(string(f.Data), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), `"`+key+`"`) {
			out = append(out, line)
		}
	}
	s := strings.Join(out, "\n")
	s = strings.Replace(s, ",\n}", "\n}", 1) // when it was the last line
	if len(out) == len(strings.Split(string(f.Data), "\n")) {
		t.Fatalf("no key %s", key)
	}
	return &fstest.MapFile{Data: []byte(s)}
}

// Every ID constant of ids.go is in goIDs (which Load checks), and
// goIDs holds nothing else.
func TestIDsListed(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "ids.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var consts []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			for _, n := range s.(*ast.ValueSpec).Names {
				consts = append(consts, n.Name)
			}
		}
	}
	if len(consts) != len(goIDs) {
		t.Errorf("ids.go: %d constants, goIDs lists %d", len(consts), len(goIDs))
	}
	listed := map[ID]bool{}
	for _, id := range goIDs {
		listed[id] = true
	}
	for _, name := range consts {
		obj := f.Scope.Lookup(name)
		lit := obj.Decl.(*ast.ValueSpec).Values[0].(*ast.BasicLit).Value
		if id := ID(strings.Trim(lit, `"`)); !listed[id] {
			t.Errorf("constant %s (%s) is not in goIDs", name, id)
		}
	}
}

func TestDuration(t *testing.T) {
	c, err := Load(Shipped())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		d      time.Duration
		vi, en string
	}{
		{-time.Second, "0 giây", "0 seconds"},
		{0, "0 giây", "0 seconds"},
		{time.Second, "1 giây", "1 second"},
		{1500 * time.Millisecond, "2 giây", "2 seconds"},
		{59 * time.Second, "59 giây", "59 seconds"},
		{59*time.Second + time.Millisecond, "1 phút", "1 minute"},
		{time.Minute, "1 phút", "1 minute"},
		{90 * time.Second, "2 phút", "2 minutes"},
		{59 * time.Minute, "59 phút", "59 minutes"},
		{time.Hour, "1 giờ", "1 hour"},
		{24 * time.Hour, "24 giờ", "24 hours"},
		{47 * time.Hour, "47 giờ", "47 hours"},
		{48 * time.Hour, "2 ngày", "2 days"},
		{7 * 24 * time.Hour, "7 ngày", "7 days"},
	}
	for _, tt := range tests {
		if got := c.Duration("vi", tt.d); got != tt.vi {
			t.Errorf("vi %v: got %q, want %q", tt.d, got, tt.vi)
		}
		if got := c.Duration("en", tt.d); got != tt.en {
			t.Errorf("en %v: got %q, want %q", tt.d, got, tt.en)
		}
	}
}
