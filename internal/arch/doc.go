// Package arch holds no code: its test checks goproxy's package map (the
// table in README.md's Development section) against the imports of every
// package of the module, so that a change that breaks a layer fails "go
// test" instead of waiting for a reviewer:
//
//   - parser imports the standard library, go-multierror and leaf
//     packages of internal/ (packages that import nothing of goproxy's),
//     nothing else of goproxy's;
//   - health does not depend on proxy (it defines what it needs of a
//     server and proxy satisfies it);
//   - stats reads proxy, proxy does not read stats or health;
//   - internal packages import only the standard library, the allowed
//     modules and other internal packages;
//   - nothing imports cmd/...;
//   - every third-party import is one of the allowed modules.
package arch
