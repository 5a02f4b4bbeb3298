package admin

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3 description of the admin API; a test checks it
// against apiRoutes.
//
//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(openAPI)
}
