package stktable

// freq is HAProxy's freq_ctr over a period: the events of the current
// period (from tick) and of the previous one. The entry's lock guards it.
type freq struct {
	tick       uint32 // ms tick the current period started at
	curr, prev uint32
}

// add counts n events at now (update_freq_ctr_period).
func (f *freq) add(now, period, n uint32) {
	if now-f.tick < period {
		f.curr += n
		return
	}
	f.prev, f.curr = f.curr, n
	f.tick += period
	if now-f.tick >= period {
		f.prev = 0 // two periods or more went by
		f.tick = now
	}
}

// read is read_freq_ctr_period: the events over the last period, the
// previous period counted for the part of it still in the window.
func (f *freq) read(now, period uint32) uint32 {
	if period == 0 {
		return 0
	}
	curr, past := uint64(f.curr), uint64(f.prev)
	remain := int64(int32(f.tick + period - now))
	if remain < 0 {
		remain += int64(period)
		if remain >= 0 {
			past = curr
		} else {
			past = 0
		}
		curr = 0
	}
	if curr == 0 && past <= 1 {
		return uint32(past) // HAProxy's correction of very low rates
	}
	if remain < 0 {
		remain = 0
	}
	return uint32((past*uint64(remain) + curr*uint64(period)) / uint64(period))
}
