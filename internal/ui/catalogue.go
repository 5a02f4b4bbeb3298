package ui

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// DefaultLocale is the language of a page when nothing else is known,
// and the one every other locale is compared with.
const DefaultLocale = "vi"

//go:embed locales
var shipped embed.FS

// Shipped returns the locale files CitizenID ships, one directory per
// language: <lang>/<feature>.json.
func Shipped() fs.FS {
	sub, err := fs.Sub(shipped, "locales")
	if err != nil {
		panic(err) // the directory is embedded: cannot happen
	}
	return sub
}

// ShippedLocales lists the languages CitizenID ships, the default first
// and the others in alphabetical order. Adding a directory under
// locales/ adds a language; no Go code names them.
func ShippedLocales() []string {
	entries, err := fs.ReadDir(Shipped(), ".")
	if err != nil {
		panic(err) // embedded: cannot happen
	}
	var langs []string
	for _, e := range entries {
		if e.IsDir() {
			langs = append(langs, e.Name())
		}
	}
	return orderLocales(langs)
}

func orderLocales(langs []string) []string {
	sort.Slice(langs, func(i, j int) bool {
		if (langs[i] == DefaultLocale) != (langs[j] == DefaultLocale) {
			return langs[i] == DefaultLocale
		}
		return langs[i] < langs[j]
	})
	return langs
}

// Catalogue holds every message in every language, loaded and checked
// once at start-up. It is read-only afterwards and safe for concurrent
// use.
type Catalogue struct {
	locales []string                     // default first
	msgs    map[string]map[string]string // lang → key → text
}

var (
	// A bare language: server.Locale negotiates languages, not regions.
	localeName = regexp.MustCompile(`^[a-z]{2,3}$`)
	keyName    = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	verb       = regexp.MustCompile(`%[-+# 0]*[0-9]*(\.[0-9]+)?[a-zA-Z%]`)
)

// Load reads a catalogue from fsys: one directory per language, each
// holding <feature>.json files of flat {"key": "text"} objects. It
// refuses, naming the key, locale and file, a key defined twice in a
// locale, an empty text, a key one locale has and another lacks, a text
// whose fmt verbs (%s, %d) differ from the default locale's, and a
// typed ID (ids.go) that no locale defines. Every problem is reported,
// not just the first.
func Load(fsys fs.FS) (*Catalogue, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("catalogue: %w", err)
	}
	c := &Catalogue{msgs: map[string]map[string]string{}}
	var errs []error
	files := map[string]map[string]string{} // lang → key → file
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		lang := e.Name()
		if !localeName.MatchString(lang) {
			errs = append(errs, fmt.Errorf("catalogue: %q is not a language tag (want a lowercase language code, like vi or fr)", lang))
			continue
		}
		names, err := fs.Glob(fsys, lang+"/*.json")
		if err != nil {
			return nil, fmt.Errorf("catalogue: %w", err)
		}
		if len(names) == 0 {
			errs = append(errs, fmt.Errorf("catalogue: locale %s has no .json files", lang))
			continue
		}
		c.locales = append(c.locales, lang)
		c.msgs[lang] = map[string]string{}
		files[lang] = map[string]string{}
		for _, name := range names {
			errs = append(errs, c.loadFile(fsys, lang, name, files[lang])...)
		}
	}
	c.locales = orderLocales(c.locales)
	if c.msgs[DefaultLocale] == nil {
		errs = append(errs, fmt.Errorf("catalogue: the default locale %s is missing", DefaultLocale))
		return nil, errors.Join(errs...)
	}
	errs = append(errs, c.compare(files)...)
	ids := make([]string, len(goIDs))
	for i, id := range goIDs {
		ids[i] = string(id)
	}
	if err := c.Require(ids, "a typed ID in internal/ui/ids.go"); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// loadFile reads one JSON object token by token, so a key written twice
// in one file is caught (encoding/json would keep the last silently).
func (c *Catalogue) loadFile(fsys fs.FS, lang, name string, seen map[string]string) []error {
	f, err := fsys.Open(name)
	if err != nil {
		return []error{fmt.Errorf("catalogue: %w", err)}
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	bad := func(err error) []error { return []error{fmt.Errorf("catalogue: %s: %w", name, err)} }
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return bad(errors.New(`want one object of "key": "text"`))
	}
	var errs []error
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad(err)
		}
		key := tok.(string) // object keys are always strings
		var text string
		if err := dec.Decode(&text); err != nil {
			return bad(fmt.Errorf("key %s: the text must be a string: %w", key, err))
		}
		switch {
		case !keyName.MatchString(key):
			errs = append(errs, fmt.Errorf("catalogue: %s: key %q: want lowercase letters, digits, _ and -", name, key))
		case seen[key] != "":
			errs = append(errs, fmt.Errorf("catalogue: locale %s: key %s is defined in %s and again in %s", lang, key, seen[key], name))
		case strings.TrimSpace(text) == "":
			errs = append(errs, fmt.Errorf("catalogue: %s: key %s has no text", name, key))
		default:
			seen[key] = name
			c.msgs[lang][key] = text
		}
	}
	if _, err := dec.Token(); err != nil {
		return bad(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad(errors.New("trailing data after the object"))
	}
	return errs
}

// compare reports keys one locale has and another lacks, and texts whose
// fmt verbs differ from the default locale's.
func (c *Catalogue) compare(files map[string]map[string]string) []error {
	all := map[string]string{} // key → a file that defines it
	for _, lang := range c.locales {
		for k, f := range files[lang] {
			if all[k] == "" {
				all[k] = f
			}
		}
	}
	var errs []error
	for _, k := range sortedKeys(all) {
		def, hasDef := c.msgs[DefaultLocale][k]
		for _, lang := range c.locales {
			text, ok := c.msgs[lang][k]
			if !ok {
				errs = append(errs, fmt.Errorf("catalogue: locale %s lacks key %s (defined in %s)", lang, k, all[k]))
				continue
			}
			if hasDef && !slices.Equal(verb.FindAllString(text, -1), verb.FindAllString(def, -1)) {
				errs = append(errs, fmt.Errorf("catalogue: %s: key %s has verbs %v, the default locale %v", files[lang][k], k,
					verb.FindAllString(text, -1), verb.FindAllString(def, -1)))
			}
		}
	}
	return errs
}

// Require reports every key of keys that a locale lacks, naming the key,
// the locale and where the key is used (by).
func (c *Catalogue) Require(keys []string, by string) error {
	var errs []error
	for _, k := range keys {
		for _, lang := range c.locales {
			if _, ok := c.msgs[lang][k]; !ok {
				errs = append(errs, fmt.Errorf("catalogue: locale %s lacks key %s, used by %s", lang, k, by))
			}
		}
	}
	return errors.Join(errs...)
}

// Locales lists the catalogue's languages, the default first.
func (c *Catalogue) Locales() []string { return slices.Clone(c.locales) }

// Has reports whether the catalogue speaks lang.
func (c *Catalogue) Has(lang string) bool { return c.msgs[lang] != nil }

// Messages returns the messages of lang (the default locale's when lang
// is unknown). The map is shared: callers must not change it.
func (c *Catalogue) Messages(lang string) map[string]string {
	if m, ok := c.msgs[lang]; ok {
		return m
	}
	return c.msgs[DefaultLocale]
}

// Lookup returns the text of key in lang (the default locale when lang
// is unknown) and whether the key exists.
func (c *Catalogue) Lookup(lang, key string) (string, bool) {
	s, ok := c.Messages(lang)[key]
	return s, ok
}

// Text returns the text of a typed ID. Load checked that every ID exists
// in every locale, so it never returns an empty string.
func (c *Catalogue) Text(lang string, id ID) string {
	s, _ := c.Lookup(lang, string(id))
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
