package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"
)

// Check reports every problem of the configuration at path (empty: none)
// with the environment applied: YAML problems (unknown keys, wrong types,
// each with its line) and Validate's, all at once. Load stops at the
// first YAML problem; `citizenid config check` uses this instead.
func Check(path string, env func(string) string) error {
	cfg := Default()
	var errs []error
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		// The decoder goes on past unknown keys and wrong types, filling
		// what it can, and reports them together in one TypeError.
		err = dec.Decode(&cfg)
		var te *yaml.TypeError
		switch {
		case errors.As(err, &te):
			for _, msg := range te.Errors {
				errs = append(errs, keyPathError(&yaml.TypeError{Errors: []string{msg}}))
			}
		case err != nil && !errors.Is(err, io.EOF):
			return fmt.Errorf("config %s: %w", path, err) // not YAML at all: nothing more to say
		}
		var extra any
		if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
			errs = append(errs, errors.New("only one YAML document is allowed"))
		}
	}
	if env == nil {
		env = os.Getenv
	}
	if err := applyEnv(&cfg, env); err != nil {
		errs = append(errs, err)
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
