package server

import (
	"net/http"
	"strings"

	"golang.org/x/text/language"

	"github.com/citizenid/citizenid/internal/ui"
)

// Locales CitizenID speaks, the default first: the directories of the
// shipped catalogue (internal/ui/locales), so a new language needs no
// change here.
var Locales = ui.ShippedLocales()

var matcher = language.NewMatcher(tags(Locales))

func tags(locales []string) []language.Tag {
	t := make([]language.Tag, len(locales))
	for i, l := range locales {
		t[i] = language.Make(l)
	}
	return t
}

// LangCookie remembers the citizen's choice from the language switcher.
const LangCookie = "citizenid_lang"

// Locale picks the page language: the request's ui_locales (passed in by
// the caller, from the protocol request), then the switcher cookie, then
// Accept-Language, then Vietnamese.
func Locale(r *http.Request, uiLocales []string) string {
	for _, l := range uiLocales {
		if loc, ok := supported(l); ok {
			return loc
		}
	}
	if c, err := r.Cookie(LangCookie); err == nil {
		if loc, ok := supported(c.Value); ok {
			return loc
		}
	}
	if al := r.Header.Get("Accept-Language"); al != "" && len(al) < 512 {
		tags, _, err := language.ParseAcceptLanguage(al)
		if err == nil && len(tags) > 0 {
			_, idx, conf := matcher.Match(tags...)
			if conf != language.No {
				return Locales[idx]
			}
		}
	}
	return Locales[0]
}

func supported(l string) (string, bool) {
	l = strings.ToLower(strings.TrimSpace(l))
	if i := strings.IndexAny(l, "-_"); i > 0 {
		l = l[:i]
	}
	for _, s := range Locales {
		if s == l {
			return s, true
		}
	}
	return "", false
}
