package admin

import (
	"strings"
)

// Form errors of the console: each problem belongs to a field of the page
// (by its element id), shown beside it and listed, linked, in a summary at
// the top of the form (admin_base.html's "admin_errors" and
// "admin_field_error"). Every message is a catalogue text in the
// administrator's language; English details of the rules (meant for the
// API and the CLI) never reach a page.

// formError is one problem of a console form: the id of the element it
// belongs to and the message, translated.
type formError struct {
	Field string
	Text  string
	// Detail is a technical detail in English (a SAML metadata problem as
	// the saml package words it), shown marked lang="en" after Text.
	Detail string
}

// formErrors are the problems of one submitted form, in the order the
// summary lists them; one entry per field.
type formErrors []formError

// For returns the message of field, or "".
func (fe formErrors) For(field string) string {
	for _, e := range fe {
		if e.Field == field {
			return e.Text
		}
	}
	return ""
}

// Field returns the problem of field for the "admin_field_error" partial,
// or nil.
func (fe formErrors) Field(field string) *formError {
	for i := range fe {
		if fe[i].Field == field {
			return &fe[i]
		}
	}
	return nil
}

// add records text for field; a second problem of the same field joins
// the first, so a field has one message and one id.
func (fe *formErrors) add(field, text string) {
	for i := range *fe {
		if (*fe)[i].Field == field {
			if !strings.Contains((*fe)[i].Text, text) {
				(*fe)[i].Text += " " + text
			}
			return
		}
	}
	*fe = append(*fe, formError{Field: field, Text: text})
}

// addDetail records text with a technical detail for field.
func (fe *formErrors) addDetail(field, text, detail string) {
	for i := range *fe {
		if (*fe)[i].Field == field {
			(*fe)[i].Detail = strings.TrimPrefix((*fe)[i].Detail+"; "+detail, "; ")
			return
		}
	}
	*fe = append(*fe, formError{Field: field, Text: text, Detail: detail})
}
