// Package peersync runs HAProxy's peers: the stick tables of a peers
// section pushed to every remote peer and learnt from them, over the
// protocol of package peers, with HAProxy 2.6's timers and state
// machine (src/peers.c): a connection to each remote peer, retried every
// 5 s; a heartbeat every 3 s when nothing else is sent; a session cut
// when nothing arrived for two reconnect periods; collisions settled by
// a random delay; acknowledgements and a resume from the last
// acknowledged update after a reconnection; the full resync asked of
// the old process at a reload (the local peer), else of a remote peer;
// the old process teaching its tables to the new one before it exits.
//
//	s, err := peersync.New(cfg) // one per peers section
//	err = s.Start()             // listens, connects
//	s.SoftStop()                // reload: teach the new process
//	<-s.Stopped()
//	s.Close()
//
// The tables are those of package stktable; "show peers" is Show.
package peersync
