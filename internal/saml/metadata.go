package saml

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"slices"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/citizenid/citizenid/internal/server"
)

// Metadata is the IdP's metadata document: entity ID, the HTTP-Redirect
// and HTTP-POST SSO and SLO endpoints, the NameID formats, and the
// certificate of every published key, the active one first. Keys are for
// signing only: there is no encryption key, since nothing is ever
// encrypted to CitizenID. Signed with the active key when configured.
func (p *Provider) Metadata(ctx context.Context) ([]byte, error) {
	idp, err := p.idp(ctx)
	if err != nil {
		return nil, err
	}
	ed := idp.Metadata()
	for i := range ed.IDPSSODescriptors {
		d := &ed.IDPSSODescriptors[i]
		d.KeyDescriptors = slices.DeleteFunc(d.KeyDescriptors, func(k saml.KeyDescriptor) bool { return k.Use != "signing" })
	}
	if !p.o.SignMetadata {
		out, err := xml.MarshalIndent(ed, "", "  ")
		if err != nil {
			return nil, err
		}
		return append([]byte(xml.Header), out...), nil
	}
	return signMetadata(idp, ed)
}

// signMetadata signs ed with an enveloped signature (saml-metadata §3), as
// crewjam's SignedMetadata does for the metadata it builds itself.
func signMetadata(idp *saml.IdentityProvider, ed *saml.EntityDescriptor) ([]byte, error) {
	sc, err := signingContext(idp)
	if err != nil {
		return nil, err
	}
	var id [20]byte
	rand.Read(id[:])
	ed.ID = "_" + hex.EncodeToString(id[:])
	buf, err := xml.Marshal(ed)
	if err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(buf); err != nil {
		return nil, err
	}
	el := doc.Root()
	sig, err := sc.ConstructSignature(el, true)
	if err != nil {
		return nil, err
	}
	el.InsertChildAt(0, sig) // the schema wants ds:Signature first
	out := etree.NewDocument()
	out.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	out.SetRoot(el)
	return out.WriteToBytes()
}

func (p *Provider) serveMetadata(w http.ResponseWriter, r *http.Request) {
	md, err := p.Metadata(r.Context())
	if err != nil {
		p.o.Log.ErrorContext(r.Context(), "saml metadata", "err", err)
		p.o.Renderer.Error(w, r, http.StatusServiceUnavailable, server.Locale(r, nil), "err_generic")
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(md)
}
