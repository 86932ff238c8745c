// Package stktable holds HAProxy's stick tables: entries keyed by an
// address, an integer, a string or bytes, each with the counters its
// table stores (server_id, conn_cnt, conn_rate, gpc0, ...), an expiry
// refreshed on use, a size limit that evicts the oldest unused entries
// (or refuses new ones with nopurge), and the frequency counters of
// HAProxy's freq_ctr over each rate's period.
//
// A table is split in shards, each with its own lock and its own
// least-recently-used list, so that the event loops rarely meet on one
// lock; an entry's data has a lock of its own. It is a leaf package: it
// imports nothing of goproxy's.
package stktable
