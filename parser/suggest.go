package parser

// fingerprint is HAProxy's word signature for "did you mean": presence of
// each character class and counts of transitions between classes.
type fingerprint [1024]uint8

// classes: 1..26 letters, 27 digit, 28 other, begin and end.
func charClass(c byte) int {
	switch {
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 1
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 1
	case c >= '0' && c <= '9':
		return 27
	}
	return 28
}

func makeFingerprint(word string) *fingerprint {
	var fp fingerprint
	from := 28
	for i := 0; i < len(word); i++ {
		to := charClass(word[i])
		fp[to] = 1
		fp[32*from+to]++
		from = to
	}
	fp[32*from+28]++
	return &fp
}

func fingerprintDistance(a, b *fingerprint) int {
	d := 0
	for i := range a {
		k := int(a[i]) - int(b[i])
		if k < 0 {
			k = -k
		}
		d += k
	}
	return d
}

// bestMatch returns the candidate closest to word, or "" when none is
// close enough (HAProxy's cfg_find_best_match rule). The first of equally
// close candidates wins.
func bestMatch(word string, candidates []string) string {
	wf := makeFingerprint(word)
	best, bestDist := "", int(^uint(0)>>1)
	for _, c := range candidates {
		d := fingerprintDistance(wf, makeFingerprint(c))
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" || bestDist > 2*len(word) || bestDist > 2*len(best) {
		return ""
	}
	return best
}
