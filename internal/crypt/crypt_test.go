package crypt

import "testing"

// Vectors from "openssl passwd -1|-5|-6 -salt ..." and the SHA-crypt
// specification's examples.
func TestCrypt(t *testing.T) {
	cases := []struct{ pw, hash string }{
		{"pw", "$1$xx$1Ey4ThDyLhNFshIiJjZVc."},
		{"pw", "$5$xx$K4Uxsnk8bpaONhN5L2jLNKMZmQ3Xc3oySu4iQtX.r07"},
		{"pw", "$6$xx$jvXijrWq9QrPovHWdQFibuAMXQsiCgkv7/U4gTVEfgj6pNQiL8wDcCiJQLTNN3dDpbTaXiiG2ybljEj2OiIen."},
		{"Hello world!", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"},
		{"Hello world!", "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"},
		{"Hello world!", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
		{"Hello world!", "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."},
		{"This is just a test", "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0"},
		{"a very much longer text to encrypt.  This one even stretches over morethan one line.", "$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1"},
		{"the minimum number is still observed", "$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC"},
	}
	for _, c := range cases {
		got, ok := Crypt(c.pw, c.hash)
		if !ok || got != c.hash {
			t.Errorf("Crypt(%q, %q) = %q, %v", c.pw, c.hash, got, ok)
		}
		if !Verify(c.pw, c.hash) {
			t.Errorf("Verify(%q, %q) = false", c.pw, c.hash)
		}
		if Verify(c.pw+"x", c.hash) {
			t.Errorf("Verify(%q+x) = true", c.pw)
		}
	}
	if Verify("pw", "xxPLAIN") || Verify("pw", "$2y$10$abc") {
		t.Error("unknown formats must not match")
	}
}
