package config

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func FuzzSlow(f *testing.F) {
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("server: &s {addr: x}\nredis: *s\n"))
	f.Add([]byte("session:\n  idle_timeout: 1h\n  absolute_timeout: -5m\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tm := time.AfterFunc(3*time.Second, func() {
			os.WriteFile(fmt.Sprintf("/tmp/slow-%d-%d", os.Getpid(), time.Now().UnixNano()), b, 0o644)
		})
		defer tm.Stop()
		c := Default()
		if err := Parse(b, &c); err == nil {
			_ = c.Validate()
		}
	})
}
