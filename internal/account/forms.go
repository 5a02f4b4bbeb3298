package account

import (
	"net/http"
	"net/url"
)

// formError is a message beside one field of a form: the page puts it
// under the field, ties it with aria-describedby="<field>-error", marks the
// field aria-invalid, and lists it in the summary at the top with a link
// to the field.
type formError struct {
	Field string // the input's id and name
	Text  string // already translated
}

// formErrors are a form's messages, in the order of its fields.
type formErrors []formError

// For is the message of field, or "".
func (e formErrors) For(field string) string {
	for _, fe := range e {
		if fe.Field == field {
			return fe.Text
		}
	}
	return ""
}

// postForm is the request's form body, parsed (an unparsable body reads
// as an empty form, which every parser refuses field by field).
func postForm(r *http.Request) url.Values {
	if err := r.ParseForm(); err != nil {
		return url.Values{}
	}
	return r.PostForm
}
