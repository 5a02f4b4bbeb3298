// Package web embeds the browser ES modules served under /web/. They need
// no build step and are tested with `node --test web/`.
package web

import "embed"

// FS holds the modules.
//
//go:embed *.js
var FS embed.FS
