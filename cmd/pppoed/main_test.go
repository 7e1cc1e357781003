package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestVersionFlag(t *testing.T) {
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	if err := app.Run(context.Background(), []string{"pppoed", "--version"}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "pppoed version ") {
		t.Errorf("--version printed %q", out.String())
	}
}
