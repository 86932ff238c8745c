package srvstate

// Op is a server's operational state, HAProxy's SRV_ST_* ("show servers
// state" srv_op_state).
type Op int

// Operational states.
const (
	OpStopped  Op = 0
	OpStarting Op = 1 // up, warming up (slowstart)
	OpRunning  Op = 2
	OpStopping Op = 3 // up but takes no new sessions (NOLB)
)

// Admin is a server's administrative state, HAProxy's SRV_ADMF_* bit mask
// ("show servers state" srv_admin_state).
type Admin uint32

// Administrative flags.
const (
	AdminForcedMaint     Admin = 0x01
	AdminInheritedMaint  Admin = 0x02
	AdminConfigMaint     Admin = 0x04
	AdminForcedDrain     Admin = 0x08
	AdminInheritedDrain  Admin = 0x10
	AdminResolutionMaint Admin = 0x20
	AdminFQDNSet         Admin = 0x40

	// AdminMaint is every flag that puts a server in maintenance.
	// AdminConfigMaint alone is not one: HAProxy sets it beside
	// AdminForcedMaint for a `disabled` server, and "enable server"
	// clears only the latter.
	AdminMaint = AdminForcedMaint | AdminInheritedMaint | AdminResolutionMaint
	// AdminDrain is every flag that drains a server.
	AdminDrain = AdminForcedDrain | AdminInheritedDrain
)

// ProbeState is the srv_check_state / srv_agent_state bit mask of "show
// servers state" (HAProxy's CHK_ST_*).
type ProbeState int

// Probe state bits.
const (
	ProbeInProgress ProbeState = 0x01
	ProbeConfigured ProbeState = 0x02
	ProbeEnabled    ProbeState = 0x04
	ProbePaused     ProbeState = 0x08
	ProbeAgent      ProbeState = 0x10 // the agent check's state

	// ProbeAll is every probe state bit.
	ProbeAll = ProbeInProgress | ProbeConfigured | ProbeEnabled | ProbePaused | ProbeAgent
)
