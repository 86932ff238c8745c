// Package srvstate owns HAProxy's vocabulary for the state of a server:
// check statuses (HCHK_STATUS_*) with their short names and descriptions,
// check results (CHK_RES_*), operational states (SRV_ST_*) and
// administrative flags (SRV_ADMF_*), each with HAProxy's numbers, the
// ones "show servers state" prints and a server state file holds; and the
// Report a checker hands to its server (with an agent's reply, parsed).
//
// It is a leaf: it imports nothing of ours, and health, proxy and stats
// all take these definitions from here instead of keeping copies.
package srvstate
