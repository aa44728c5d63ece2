package system

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"guestbridge/internal/testenv"
)

// Drepper's SHA-crypt specification test vectors (SHA-512 part), also used by
// glibc's crypt/sha512c-test.c.
var drepperVectors = []struct{ setting, password, want string }{
	{"$6$saltstring", "Hello world!",
		"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
	{"$6$rounds=10000$saltstringsaltstring", "Hello world!",
		"$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."},
	{"$6$rounds=5000$toolongsaltstring", "This is just a test",
		"$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0"},
	{"$6$rounds=1400$anotherlongsaltstring", "a very much longer text to encrypt.  This one even stretches over morethan one line.",
		"$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1"},
	{"$6$rounds=77777$short", "we have a short salt string but not a short password",
		"$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0"},
	{"$6$rounds=123456$asaltof16chars..", "a short string",
		"$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1"},
	{"$6$rounds=10$roundstoolow", "the minimum number is still observed",
		"$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX."},
}

func TestCryptSHA512DrepperVectors(t *testing.T) {
	for _, v := range drepperVectors {
		got, err := CryptSHA512(v.password, v.setting)
		if err != nil {
			t.Fatalf("CryptSHA512(%q): %v", v.setting, err)
		}
		if got != v.want {
			t.Errorf("CryptSHA512(%q)\n got %s\nwant %s", v.setting, got, v.want)
		}
		if !VerifyPassword(v.want, v.password) {
			t.Errorf("VerifyPassword(%q) = false", v.want)
		}
		if VerifyPassword(v.want, v.password+"x") {
			t.Errorf("VerifyPassword(%q) accepted a wrong password", v.want)
		}
	}
}

// The live cross-checks below compare against the system's crypt
// implementations: OpenSSL, Debian's mkpasswd (package whois) and glibc /
// libxcrypt through Python's crypt module.
var crossCheckCases = []struct{ password, salt string }{
	{"hunter2", "abcdefghABCDEFGH"},
	{"", "saltsalt"},
	{"pässwörd ünïcode", "./0123456789abcd"},
	{strings.Repeat("long-password-", 15), "x"},
	{"with:colon\nand newline", "Zz09./Zz09./Zz09"},
}

func TestCryptSHA512MatchesOpenSSL(t *testing.T) {
	openssl := testenv.RequireCommand(t, "openssl")
	for _, c := range crossCheckCases {
		if c.password == "" || strings.Contains(c.password, "\n") {
			continue // openssl passwd reads one non-empty line per password ("" prints <NULL>)
		}
		// -stdin: an empty argument would print "<NULL>", and stdin keeps
		// the password off the command line.
		cmd := exec.Command(openssl, "passwd", "-6", "-salt", c.salt, "-stdin")
		cmd.Stdin = strings.NewReader(c.password + "\n")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("openssl passwd -6 -salt %s: %v", c.salt, err)
		}
		want := strings.TrimSpace(string(out))
		got, err := CryptSHA512(c.password, sha512Prefix+c.salt)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("salt %q: got %s, openssl %s", c.salt, got, want)
		}
		if !VerifyPassword(want, c.password) {
			t.Errorf("VerifyPassword rejects openssl's %s", want)
		}
	}
	// A random salt chosen by openssl itself.
	out, err := exec.Command(openssl, "passwd", "-6", "s3cret").Output()
	if err != nil {
		t.Fatal(err)
	}
	if h := strings.TrimSpace(string(out)); !VerifyPassword(h, "s3cret") || VerifyPassword(h, "s3creT") {
		t.Errorf("VerifyPassword disagrees with openssl on %s", h)
	}
}

func TestCryptSHA512MatchesMkpasswd(t *testing.T) {
	mkpasswd := testenv.RequireCommand(t, "mkpasswd")
	for _, c := range crossCheckCases {
		if c.password == "" || strings.Contains(c.password, "\n") || len(c.salt) < 8 {
			continue // mkpasswd wants one non-empty line and a salt of 8-16 characters
		}
		for _, rounds := range []string{"", "10000"} {
			args := []string{"-m", "sha-512", "-S", c.salt}
			setting := sha512Prefix + c.salt
			if rounds != "" {
				args = append(args, "-R", rounds)
				setting = sha512Prefix + "rounds=" + rounds + "$" + c.salt
			}
			args = append(args, c.password)
			out, err := exec.Command(mkpasswd, args...).Output()
			if err != nil {
				t.Fatalf("mkpasswd %v: %v", args[:len(args)-1], err)
			}
			want := strings.TrimSpace(string(out))
			got, _ := CryptSHA512(c.password, setting)
			if got != want {
				t.Errorf("setting %q: got %s, mkpasswd %s", setting, got, want)
			}
		}
	}
}

func TestCryptSHA512MatchesGlibcViaPython(t *testing.T) {
	python := testenv.RequireFile(t, testenv.SystemPython)
	for _, c := range crossCheckCases {
		for _, setting := range []string{sha512Prefix + c.salt, sha512Prefix + "rounds=7777$" + c.salt} {
			// The password travels on stdin, never on a command line.
			cmd := exec.Command(python, "-W", "ignore", "-c",
				"import crypt,sys; print(crypt.crypt(sys.stdin.read(), sys.argv[1]))", setting)
			cmd.Stdin = strings.NewReader(c.password)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("python crypt: %v", err)
			}
			want := strings.TrimSpace(string(out))
			got, _ := CryptSHA512(c.password, setting)
			if got != want {
				t.Errorf("setting %q: got %s, glibc %s", setting, got, want)
			}
		}
	}
}

func TestCryptSHA512PasswordLengthLimitMatchesLibxcrypt(t *testing.T) {
	python := testenv.RequireFile(t, testenv.SystemPython)
	for _, n := range []int{maxPasswordLen, maxPasswordLen + 1} {
		pw := strings.Repeat("p", n)
		cmd := exec.Command(python, "-W", "ignore", "-c",
			"import crypt,sys; print(crypt.crypt(sys.stdin.read(), '$6$salt'))")
		cmd.Stdin = strings.NewReader(pw)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		libx := strings.TrimSpace(string(out))
		got, err := CryptSHA512(pw, "$6$salt")
		if libx == "*0" || libx == "None" {
			if err == nil {
				t.Errorf("%d bytes: libxcrypt refuses, we hash", n)
			} else if strings.Contains(err.Error(), "ppp") {
				t.Errorf("error quotes the password: %v", err)
			}
		} else if err != nil || got != libx {
			t.Errorf("%d bytes: got %q, %v; libxcrypt %q", n, got, err, libx)
		}
	}
	if _, err := HashPassword(strings.Repeat("x", 600)); err == nil {
		t.Error("HashPassword accepted 600 bytes")
	}
}

func TestHashPasswordFormat(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		h, err := HashPassword("pw")
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(h, "$")
		if len(parts) != 4 || parts[1] != "6" || len(parts[2]) != 16 || len(parts[3]) != 86 {
			t.Fatalf("HashPassword = %q, want $6$<16 salt>$<86 hash>", h)
		}
		if strings.Trim(parts[2], cryptAlphabet) != "" {
			t.Fatalf("salt %q has characters outside the crypt alphabet", parts[2])
		}
		if seen[parts[2]] {
			t.Fatalf("salt %q repeated", parts[2])
		}
		seen[parts[2]] = true
		if !VerifyPassword(h, "pw") || VerifyPassword(h, "pW") {
			t.Fatalf("VerifyPassword disagrees with HashPassword on %q", h)
		}
	}
}

func TestVerifyPasswordRejectsOtherFormats(t *testing.T) {
	for _, h := range []string{"", "*", "!", "x", "$1$abc$def", "$5$abc$def", "$6$", "!$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"} {
		if VerifyPassword(h, "Hello world!") {
			t.Errorf("VerifyPassword(%q) = true", h)
		}
	}
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzCryptSHA512Setting: any setting either is refused or yields a hash
// that, used as the setting again, reproduces itself (so VerifyPassword
// accepts it) and holds nothing that would break a shadow line.
func FuzzCryptSHA512Setting(f *testing.F) {
	for _, v := range drepperVectors {
		f.Add(v.setting, v.password)
	}
	f.Add("$6$rounds=abc$salt", "pw")
	f.Add("$6$rounds=$", "")
	f.Fuzz(func(t *testing.T, setting, password string) {
		if n, ok := settingRounds(setting); ok && n > 20000 {
			return // valid but slow: the fuzzer would spend its time hashing
		}
		got, err := CryptSHA512(password, setting)
		if err != nil {
			return
		}
		again, err := CryptSHA512(password, got)
		if err != nil || again != got {
			t.Fatalf("CryptSHA512(pw, %q) = %q, %v; want it to reproduce itself", got, again, err)
		}
		if !VerifyPassword(got, password) {
			t.Fatalf("VerifyPassword rejects %q", got)
		}
	})
}

// settingRounds extracts the rounds= value the way CryptSHA512 does.
func settingRounds(setting string) (uint64, bool) {
	num, ok := strings.CutPrefix(setting, "$6$rounds=")
	if !ok {
		return 0, false
	}
	end := strings.IndexByte(num, '$')
	if end <= 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(num[:end], 10, 64)
	return n, err == nil
}

// A setting whose salt starts with "rounds=" (no '$' after the digits) is
// refused: its hash would read back with a rounds field and never verify
// (fuzz crasher a22741be16d75b0f).
func TestCryptSHA512RefusesRoundsLikeSalt(t *testing.T) {
	for _, setting := range []string{"$6$rounds=0", "$6$rounds=5000x$", "$6$rounds=$"} {
		if got, err := CryptSHA512("pw", setting); err == nil {
			t.Errorf("CryptSHA512(pw, %q) = %q, want an error", setting, got)
		}
	}
	if _, err := CryptSHA512("pw", "$6$rounds=5000$salt"); err != nil {
		t.Errorf("a real rounds field is refused: %v", err)
	}
}
