package stats

import "goproxy/internal/hatext"

// argAt returns args[i], or "" when the command has fewer words (hatext.At).
func argAt(args []string, i int) string { return hatext.At(args, i) }
