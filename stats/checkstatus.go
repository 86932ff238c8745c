package stats

// CheckStatus is the result code of the last health check, numbered as
// HAProxy's HCHK_STATUS_* (the number printed by show servers state).
type CheckStatus int

// Check statuses.
const (
	CheckUnknown  CheckStatus = 0
	CheckIni      CheckStatus = 1
	CheckStart    CheckStatus = 2
	CheckChecked  CheckStatus = 3
	CheckHana     CheckStatus = 4
	CheckSockErr  CheckStatus = 5
	CheckL4OK     CheckStatus = 6
	CheckL4Tout   CheckStatus = 7
	CheckL4Con    CheckStatus = 8
	CheckL6OK     CheckStatus = 9
	CheckL6Tout   CheckStatus = 10
	CheckL6Rsp    CheckStatus = 11
	CheckL7Tout   CheckStatus = 12
	CheckL7Rsp    CheckStatus = 13
	CheckL57Data  CheckStatus = 14
	CheckL7OK     CheckStatus = 15
	CheckL7OKC    CheckStatus = 16
	CheckL7Sts    CheckStatus = 17
	CheckProcErr  CheckStatus = 18
	CheckProcTout CheckStatus = 19
	CheckProcOK   CheckStatus = 20
)

var checkStatusText = [...]struct{ code, desc string }{
	CheckUnknown:  {"UNK", "Unknown"},
	CheckIni:      {"INI", "Initializing"},
	CheckStart:    {"", ""},
	CheckChecked:  {"CHECKED", "No status change"},
	CheckHana:     {"HANA", "Health analyze"},
	CheckSockErr:  {"SOCKERR", "Socket error"},
	CheckL4OK:     {"L4OK", "Layer4 check passed"},
	CheckL4Tout:   {"L4TOUT", "Layer4 timeout"},
	CheckL4Con:    {"L4CON", "Layer4 connection problem"},
	CheckL6OK:     {"L6OK", "Layer6 check passed"},
	CheckL6Tout:   {"L6TOUT", "Layer6 timeout"},
	CheckL6Rsp:    {"L6RSP", "Layer6 invalid response"},
	CheckL7Tout:   {"L7TOUT", "Layer7 timeout"},
	CheckL7Rsp:    {"L7RSP", "Layer7 invalid response"},
	CheckL57Data:  {"", ""},
	CheckL7OK:     {"L7OK", "Layer7 check passed"},
	CheckL7OKC:    {"L7OKC", "Layer7 check conditionally passed"},
	CheckL7Sts:    {"L7STS", "Layer7 wrong status"},
	CheckProcErr:  {"PROCERR", "External check error"},
	CheckProcTout: {"PROCTOUT", "External check timeout"},
	CheckProcOK:   {"PROCOK", "External check passed"},
}

// Code returns the short code shown in check_status ("L4OK").
func (c CheckStatus) Code() string {
	if c < 0 || int(c) >= len(checkStatusText) {
		return "UNK"
	}
	return checkStatusText[c].code
}

// Desc returns the human text shown in check_desc ("Layer4 check passed").
func (c CheckStatus) Desc() string {
	if c < 0 || int(c) >= len(checkStatusText) {
		return "Unknown"
	}
	return checkStatusText[c].desc
}
