package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The statistics page as a browser sees it: the real binary serves a
// stats listen section beside a TCP backend with UP, DOWN, MAINT, backup and
// unchecked servers; headless Chromium renders it. GOPROXY_TEST_ARTIFACTS,
// when set, is a directory that keeps the screenshots.

// chromium returns the browser's path, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	fmt.Println("SKIP: chromium is not installed (apt-get install chromium)")
	t.Skip("chromium is not installed")
	return ""
}

// runChromium runs one headless Chromium with args, bounded in time; the
// process group it starts is killed by its PID when the time is up.
func runChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir()}, args...)
	cmd := exec.CommandContext(ctx, bin, all...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.Bytes()
}

// keepArtifact copies a file into GOPROXY_TEST_ARTIFACTS when it is set.
func keepArtifact(t *testing.T, path string) string {
	t.Helper()
	dir := os.Getenv("GOPROXY_TEST_ARTIFACTS")
	if dir == "" {
		return path
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, filepath.Base(path))
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// hasColour reports whether the image has a block of at least n pixels of
// colour c (the row backgrounds).
func hasColour(img image.Image, c color.RGBA, n int) bool {
	b := img.Bounds()
	count := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(bl>>8) == c.B {
				count++
				if count >= n {
					return true
				}
			}
		}
	}
	return false
}

func TestE2EStatsPageInBrowser(t *testing.T) {
	browser := chromium(t)
	up := newEcho(t)
	downPort := freePort(t)
	page := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	app := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	sock := filepath.Join(t.TempDir(), "stats.sock")
	cfg := fmt.Sprintf(`global
    stats socket %s level admin
defaults
    timeout client 5s
    timeout server 5s
    timeout connect 1s
listen stats
    mode http
    bind %s
    stats enable
    stats uri /st
    stats realm Test\ Stats
    stats auth admin:s3cret
    stats refresh 30s
    stats show-legends
    stats admin if LOCALHOST
listen app
    bind %s
    server up1 127.0.0.1:%d check inter 200ms
    server down1 127.0.0.1:%d check inter 200ms fall 1
    server maint1 127.0.0.1:%d check disabled
    server bk1 127.0.0.1:%d check inter 200ms backup
    server nochk 127.0.0.1:%d
`, sock, page, app, up.port(), downPort, up.port(), up.port(), up.port())
	startGoproxy(t, cfg, page)
	waitStat(t, sock, 10*time.Second, "down1 DOWN", func(rows map[string]statRow) bool {
		return rows["app/down1"]["status"] == "DOWN" && rows["app/up1"]["status"] == "UP" && rows["app/bk1"]["status"] == "UP"
	})
	base := "http://" + page + "/st"
	authed := "http://admin:s3cret@" + page + "/st"

	// Without credentials: HAProxy's 401 with the realm.
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(base)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Basic realm="Test Stats"` {
		t.Fatalf("no credentials: %d %v", resp.StatusCode, resp.Header)
	}

	// The rendered DOM: one table per proxy, rows coloured by state.
	dom := string(runChromium(t, browser, "--dump-dom", authed))
	for _, want := range []string{
		`<a class="px" href="#stats">stats</a>`, `<a class="px" href="#app">app</a>`,
		`<th colspan="3">Queue</th>`, `<th colspan="9">Server</th>`,
		`<tr class="frontend">`, `<tr class="backend">`,
		`<tr class="active_up"><td><input class="app-checkbox" type="checkbox" name="s" value="up1">`,
		`<tr class="active_down"><td><input class="app-checkbox" type="checkbox" name="s" value="down1">`,
		`<tr class="maintain"><td><input class="app-checkbox" type="checkbox" name="s" value="maint1">`,
		`<tr class="backup_up"><td><input class="app-checkbox" type="checkbox" name="s" value="bk1">`,
		`<tr class="active_no_check"><td><input class="app-checkbox" type="checkbox" name="s" value="nochk">`,
		`<option value="maint">Set state to MAINT</option>`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered page lacks %s", want)
		}
	}
	if t.Failed() {
		t.Fatalf("DOM:\n%s", dom)
	}

	// The screenshot shows the state colours.
	shot := filepath.Join(t.TempDir(), "statspage.png")
	runChromium(t, browser, "--hide-scrollbars", "--screenshot="+shot, "--window-size=1400,900", authed)
	img := decodePNG(t, shot)
	for name, c := range map[string]color.RGBA{
		"active UP": {0xc0, 0xff, 0xc0, 0}, "DOWN": {0xff, 0x90, 0x90, 0}, "MAINT": {0xc0, 0x78, 0x20, 0},
		"backup UP": {0xb0, 0xd0, 0xff, 0}, "not checked": {0xe0, 0xe0, 0xe0, 0}, "title": {0x20, 0xd0, 0xd0, 0},
	} {
		if !hasColour(img, c, 500) {
			t.Errorf("screenshot has no %s row colour #%02x%02x%02x", name, c.R, c.G, c.B)
		}
	}
	t.Logf("screenshot: %s", keepArtifact(t, shot))

	// The admin form, submitted as the browser would: its fields, read
	// from the rendered DOM, with up1 checked and "maint" chosen.
	form := regexp.MustCompile(`(?s)<form method="post">.*?</form>`).FindString(dom)
	hidden := regexp.MustCompile(`<input type="hidden" name="(\w+)" value="([^"]*)">`).FindStringSubmatch(form)
	if !strings.Contains(form, `value="up1"`) || hidden == nil {
		t.Fatalf("admin form not found:\n%s", form)
	}
	body := url.Values{"s": {"up1"}, "action": {"maint"}, hidden[1]: {hidden[2]}}.Encode()
	req, _ := http.NewRequest("POST", base, strings.NewReader(body))
	req.SetBasicAuth("admin", "s3cret")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	noFollow := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/st;st=DONE" {
		t.Fatalf("admin POST %s: %d %v", body, resp.StatusCode, resp.Header)
	}
	if st := showStat(t, sock)["app/up1"]["status"]; st != "MAINT" {
		t.Fatalf("up1 after the admin form: %q, want MAINT", st)
	}

	// The redirect's target, in the browser: the banner and the new row class.
	dom = string(runChromium(t, browser, "--dump-dom", "http://admin:s3cret@"+page+resp.Header.Get("Location")))
	if !strings.Contains(dom, "Action processed successfully.") ||
		!strings.Contains(dom, `<tr class="maintain"><td><input class="app-checkbox" type="checkbox" name="s" value="up1">`) {
		t.Errorf("page after the action lacks the banner or up1's MAINT row")
	}
	shot = filepath.Join(t.TempDir(), "statspage-after-maint.png")
	runChromium(t, browser, "--hide-scrollbars", "--screenshot="+shot, "--window-size=1400,900", "http://admin:s3cret@"+page+resp.Header.Get("Location"))
	t.Logf("screenshot after the action: %s", keepArtifact(t, shot))

	// ;csv is show stat.
	req, _ = http.NewRequest("GET", base+";csv", nil)
	req.SetBasicAuth("admin", "s3cret")
	resp, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	rows, _ := parseStat(t, string(csv))
	if rows["app/up1"]["status"] != "MAINT" || rows["app/down1"]["status"] != "DOWN" || rows["app/BACKEND"] == nil {
		t.Errorf(";csv: %s", csv)
	}
	// The page's own proxy is listed as HAProxy lists it, with its requests.
	fe, be := rows["stats/FRONTEND"], rows["stats/BACKEND"]
	if fe["mode"] != "http" || fe["status"] != "OPEN" || fe["req_tot"] == "0" || fe["hrsp_4xx"] == "0" || fe["hrsp_3xx"] != "1" ||
		be["status"] != "UP" || be["algo"] != "roundrobin" {
		t.Errorf("stats rows: %v\n%v", fe, be)
	}
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
