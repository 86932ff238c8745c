package parser

import (
	"goproxy/internal/cnum"
	"goproxy/internal/hatext"
)

// argAt returns w[i], or "" when the line has fewer words (hatext.At).
func argAt(w []string, i int) string { return hatext.At(w, i) }

// atol reads a number as C's atol(3), as HAProxy reads most integers
// (cnum.Atol).
func atol(s string) int { return cnum.Atol(s) }
