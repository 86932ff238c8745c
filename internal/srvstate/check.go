package srvstate

// CheckStatus is the outcome code of a health or agent check, numbered as
// HAProxy's enum healthcheck_status.
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
	CheckL4TOut   CheckStatus = 7
	CheckL4Con    CheckStatus = 8
	CheckL6OK     CheckStatus = 9
	CheckL6TOut   CheckStatus = 10
	CheckL6Rsp    CheckStatus = 11
	CheckL7TOut   CheckStatus = 12
	CheckL7Rsp    CheckStatus = 13
	CheckL57Data  CheckStatus = 14 // first status that carries a layer 5-7 code
	CheckL7OK     CheckStatus = 15
	CheckL7OKC    CheckStatus = 16
	CheckL7Sts    CheckStatus = 17
	CheckProcErr  CheckStatus = 18
	CheckProcTOut CheckStatus = 19
	CheckProcOK   CheckStatus = 20

	// NumCheckStatus is the number of check statuses (HCHK_STATUS_SIZE):
	// valid ones are 0 <= status < NumCheckStatus.
	NumCheckStatus = 21
)

// CheckResult is the verdict a check status stands for, HAProxy's CHK_RES_*
// ("show servers state" srv_check_result).
type CheckResult int

// Check results.
const (
	ResultUnknown  CheckResult = 0
	ResultNeutral  CheckResult = 1
	ResultFailed   CheckResult = 2
	ResultPassed   CheckResult = 3
	ResultCondPass CheckResult = 4
)

var checkStatuses = [...]struct {
	result CheckResult
	name   string
	desc   string
}{
	CheckUnknown:  {ResultUnknown, "UNK", "Unknown"},
	CheckIni:      {ResultUnknown, "INI", "Initializing"},
	CheckStart:    {},
	CheckChecked:  {ResultNeutral, "CHECKED", "No status change"},
	CheckHana:     {ResultFailed, "HANA", "Health analyze"},
	CheckSockErr:  {ResultFailed, "SOCKERR", "Socket error"},
	CheckL4OK:     {ResultPassed, "L4OK", "Layer4 check passed"},
	CheckL4TOut:   {ResultFailed, "L4TOUT", "Layer4 timeout"},
	CheckL4Con:    {ResultFailed, "L4CON", "Layer4 connection problem"},
	CheckL6OK:     {ResultPassed, "L6OK", "Layer6 check passed"},
	CheckL6TOut:   {ResultFailed, "L6TOUT", "Layer6 timeout"},
	CheckL6Rsp:    {ResultFailed, "L6RSP", "Layer6 invalid response"},
	CheckL7TOut:   {ResultFailed, "L7TOUT", "Layer7 timeout"},
	CheckL7Rsp:    {ResultFailed, "L7RSP", "Layer7 invalid response"},
	CheckL57Data:  {},
	CheckL7OK:     {ResultPassed, "L7OK", "Layer7 check passed"},
	CheckL7OKC:    {ResultCondPass, "L7OKC", "Layer7 check conditionally passed"},
	CheckL7Sts:    {ResultFailed, "L7STS", "Layer7 wrong status"},
	CheckProcErr:  {ResultFailed, "PROCERR", "External check error"},
	CheckProcTOut: {ResultFailed, "PROCTOUT", "External check timeout"},
	CheckProcOK:   {ResultPassed, "PROCOK", "External check passed"},
}

func (c CheckStatus) valid() bool { return c >= 0 && int(c) < len(checkStatuses) }

// Name returns HAProxy's short name of the status, the check_status column
// ("L4OK"); statuses without one are "UNK".
func (c CheckStatus) Name() string {
	if c.valid() && checkStatuses[c].name != "" {
		return checkStatuses[c].name
	}
	return checkStatuses[CheckUnknown].name
}

// CheckStatusNamed returns the status whose short name is name ("L7OK"),
// or CheckUnknown when none is.
func CheckStatusNamed(name string) CheckStatus {
	if name == "" {
		return CheckUnknown
	}
	for i, st := range checkStatuses {
		if st.name == name {
			return CheckStatus(i)
		}
	}
	return CheckUnknown
}

// Desc returns HAProxy's description of the status, the check_desc column
// ("Layer4 check passed"); statuses without one are "Unknown".
func (c CheckStatus) Desc() string {
	if c.valid() && checkStatuses[c].desc != "" {
		return checkStatuses[c].desc
	}
	return checkStatuses[CheckUnknown].desc
}

// Result returns the verdict the status stands for.
func (c CheckStatus) Result() CheckResult {
	if c.valid() {
		return checkStatuses[c].result
	}
	return ResultUnknown
}

// HasCode reports whether the status carries a layer 5-7 response code
// (check_code is shown, "code: N" is logged).
func (c CheckStatus) HasCode() bool { return c >= CheckL57Data }
