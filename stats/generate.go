package stats

// The tables of HAProxy's fields are generated from the schema files:
// fieldmeta.go from schema/stat.tsv (one row per show stat column, naming
// its getter in column_getters.go), infometa.go from schema/info.tsv and
// prommeta.go from schema/promex.tsv. The test of internal/gen fails when
// they are stale.
//go:generate go run ./internal/gen -schema schema -out .
