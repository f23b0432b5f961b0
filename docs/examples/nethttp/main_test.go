package main

import (
	"testing"

	"github.com/djangosessions/gosessions/internal/exampletest"
)

// TestProgram runs the program as the docs show it and walks its routes.
func TestProgram(t *testing.T) {
	exampletest.Check(t, main, exampletest.SQLite(t))
}
