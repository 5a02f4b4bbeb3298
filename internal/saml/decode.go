package saml

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Limits on a SAML message received through the browser, checked before
// crewjam parses anything. An AuthnRequest or LogoutRequest is a few
// kilobytes, signed; these leave a wide margin and bound the work an
// anonymous request can cause (crewjam alone would inflate up to 1 MiB).
const (
	maxEncodedMessage = 32 << 10 // the base64 SAMLRequest or SAMLResponse
	maxMessageXML     = 64 << 10 // the XML, after base64 and inflating
	maxXMLDepth       = 32
)

// Why a message was refused; errMessage wraps all of them.
var (
	errMessage  = errors.New("saml: refused message")
	errTooLarge = fmt.Errorf("%w: too large", errMessage)
	errEncoding = fmt.Errorf("%w: bad encoding", errMessage)
	errDTD      = fmt.Errorf("%w: document type declarations and entities are not accepted", errMessage)
	errXML      = fmt.Errorf("%w: malformed XML", errMessage)
)

// decodeRedirect decodes a message of the HTTP-Redirect binding: base64,
// then raw DEFLATE (saml-bindings §3.4.4.1), inflating no more than
// maxMessageXML bytes.
func decodeRedirect(encoded string) ([]byte, error) {
	if len(encoded) > maxEncodedMessage {
		return nil, errTooLarge
	}
	compressed, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, errEncoding
	}
	fr := flate.NewReader(bytes.NewReader(compressed))
	defer fr.Close()
	out, err := io.ReadAll(io.LimitReader(fr, maxMessageXML+1))
	if err != nil {
		return nil, errEncoding
	}
	if len(out) > maxMessageXML {
		return nil, errTooLarge // a deflate bomb, or simply too much
	}
	return out, checkXML(out)
}

// decodePost decodes a message of the HTTP-POST binding: base64.
func decodePost(encoded string) ([]byte, error) {
	if len(encoded) > maxEncodedMessage {
		return nil, errTooLarge
	}
	out, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(encoded), ""))
	if err != nil {
		return nil, errEncoding
	}
	return out, checkXML(out)
}

// checkXML refuses what SAML messages never need and parsers have been
// hurt by: a DTD (and so entity declarations), processing instructions
// other than the XML declaration, and deep nesting. It also refuses XML
// that does not parse, with one root element.
func checkXML(b []byte) error {
	if len(b) > max(maxMessageXML, MaxMetadataSize) {
		return errTooLarge
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	depth, roots := 0, 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return errXML
		}
		switch t := tok.(type) {
		case xml.Directive:
			return errDTD
		case xml.ProcInst:
			if t.Target != "xml" {
				return errXML
			}
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
			if depth > maxXMLDepth || roots > 1 {
				return errXML
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return errXML
			}
		}
	}
	if roots != 1 || depth != 0 {
		return errXML
	}
	return nil
}

// precheck applies the limits above to the message r carries (param is
// SAMLRequest or SAMLResponse), whichever binding: a GET carries it
// deflated in the query, a POST in the form. It returns the message's XML.
func precheck(r *http.Request, param string) ([]byte, error) {
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		if len(q[param]) != 1 {
			return nil, fmt.Errorf("%w: one %s is required", errMessage, param)
		}
		return decodeRedirect(q.Get(param))
	case http.MethodPost:
		if err := r.ParseForm(); err != nil {
			return nil, errEncoding
		}
		if len(r.PostForm[param]) != 1 {
			return nil, fmt.Errorf("%w: one %s is required", errMessage, param)
		}
		return decodePost(r.PostForm.Get(param))
	}
	return nil, fmt.Errorf("%w: method %s", errMessage, r.Method)
}
