package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/citizens"
	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/server"
)

func TestRefusesNonLoopbackTargets(t *testing.T) {
	for _, target := range []string{"http://10.0.0.1:8080", "https://id.example.gov.vn", "http://192.168.1.2", "nonsense"} {
		o := options{target: target, clientSecret: "s", password: "p", workers: 1, iterations: 1, duration: time.Second}
		if _, err := run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "target") {
			t.Errorf("target %s: got %v, want a refusal", target, err)
		}
	}
}

// The tool runs real flows against an in-process server and reports every phase.
func TestLoadAgainstEmbeddedServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Server.Issuer = "http://" + ln.Addr().String()
	cfg.Password.MemoryKiB, cfg.Password.Time = 8192, 1
	in, err := app.Build(context.Background(), cfg, server.NewLogger(io.Discard, "text", "error"), app.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(in.Handler)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() { srv.Close(); in.Close() })
	ctx := context.Background()
	if _, err := citizens.Create(ctx, in.Store, in.Hasher, citizens.NewCitizen{Number: "001099012345", Name: "An", Password: "mật khẩu rất dài 2024"}); err != nil {
		t.Fatal(err)
	}
	redirect := cfg.Server.Issuer + "/demo/callback"
	_, secret, err := clients.Create(ctx, in.Store, clients.Spec{ID: "load", Name: "Load", RedirectURIs: []string{redirect}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := run(ctx, options{target: cfg.Server.Issuer, clientID: "load", clientSecret: secret, redirectURI: redirect,
		number: "001099012345", password: "mật khẩu rất dài 2024", workers: 2, iterations: 10, duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if rep.flows != 10 || len(rep.errors) != 0 {
		t.Fatalf("got %d flows and errors %v, want 10 and none", rep.flows, rep.errors)
	}
	if got := len(rep.latencies[phases[0]]); got != 2 {
		t.Errorf("password logins: got %d, want one per worker (2)", got)
	}
	var out bytes.Buffer
	rep.print(&out)
	for _, p := range phases {
		if !strings.Contains(out.String(), p) {
			t.Errorf("report lacks %q:\n%s", p, out.String())
		}
	}
}
