"""What the browser drivers share: a private Xvfb display, and typing the card's PIN into the
browser's own PIN dialog with xdotool, as a user would.

Browsers ask for a PKCS#11 token's PIN with a native dialog of their UI (NSS calls the application's
password callback; Chromium and Firefox both answer it with a modal dialog). A headless browser has
no window that input can reach, so the browsers run with windows on a private Xvfb display.
"""

import os
import re
import subprocess
import sys
import threading
import time


def log(message):
    sys.stderr.write(f"[browser {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def lead_process_group():
    """Makes this process lead its own process group (unless it already does, as when spawned by
    Foundation's Process or a shell), so the caller can stop Xvfb, the driver and the browser with it."""
    if os.getpgid(0) != os.getpid():
        os.setsid()


def start_xvfb():
    """A private X server on a display number Xvfb picks itself (-displayfd): tests may run in
    parallel with other X servers. Returns (process, ":N")."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["/usr/bin/Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    number = b""
    deadline = time.time() + 30
    while not number.endswith(b"\n") and time.time() < deadline:
        chunk = os.read(read_end, 16)
        if not chunk:
            break
        number += chunk
    os.close(read_end)
    if not number.strip():
        server.kill()
        raise RuntimeError("Xvfb did not report a display number")
    return server, ":" + number.decode().strip()


def stop_process(process, timeout=10):
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def xdotool(*arguments, stdin=None):
    return subprocess.run(["/usr/bin/xdotool", *arguments], input=stdin, capture_output=True, timeout=30)


def window_names():
    """Every named window on the display, for failure reports."""
    listing = subprocess.run(["/usr/bin/xwininfo", "-root", "-tree"], capture_output=True, text=True, timeout=30)
    return [line.strip() for line in listing.stdout.splitlines() if '"' in line and "(has no name)" not in line]


def find_windows(title_pattern):
    """Visible windows whose title matches `title_pattern` (an anchored regular expression)."""
    found = xdotool("search", "--onlyvisible", "--name", title_pattern)
    return found.stdout.decode().split()


class PinTyper(threading.Thread):
    """Waits for the browser's PIN dialog, types the PIN once and presses Return.

    A second PIN dialog means the PIN was refused (or the typing went astray): it is cancelled, never
    typed into again, so a test never spends a second PIN try. (The browsers' certificate choosers are
    drawn inside the browser window, not as windows of their own: they cannot be watched this way.)"""

    def __init__(self, pin, deadline, dialog_title):
        super().__init__(daemon=True)
        self.pin = pin
        self.deadline = deadline
        self.dialog_title = dialog_title
        self.dialogs = 0
        self.typed = False
        self.error = None
        self.stop = threading.Event()

    def run(self):
        try:
            self.watch()
        except Exception as error:  # reported by the driver
            self.error = f"{type(error).__name__}: {error}"

    def watch(self):
        handled = set()
        while not self.stop.is_set() and time.time() < self.deadline:
            for window in find_windows(self.dialog_title):
                if window in handled:
                    continue
                handled.add(window)
                self.dialogs += 1
                if self.typed:
                    log(f"PIN dialog shown again (window {window}): cancelling it, no second try")
                    if self.focus(window):
                        xdotool("key", "Escape")
                    continue
                log(f"PIN dialog shown (window {window}): typing the PIN")
                self.type_pin(window)
            time.sleep(0.2)

    def focus(self, window):
        # No window manager runs on the private display: give the dialog the keyboard explicitly, and
        # check it has it before typing (keystrokes must not land in the page).
        for _ in range(50):
            xdotool("windowfocus", "--sync", window)
            if xdotool("getwindowfocus").stdout.decode().strip() == window:
                return True
            time.sleep(0.1)
        return False

    def type_pin(self, window):
        if not self.focus(window):
            raise RuntimeError(f"the PIN dialog (window {window}) never got the keyboard focus")
        time.sleep(0.3)  # the dialog's text field takes the focus once the window is mapped and focused
        # The PIN goes to xdotool on its standard input, never on a command line.
        typed = xdotool("type", "--delay", "60", "--file", "-", stdin=self.pin)
        if typed.returncode != 0:
            raise RuntimeError(f"xdotool type failed: {typed.stderr.decode()}")
        self.typed = True
        xdotool("key", "Return")


def read_pin():
    """The PIN, from the first line of standard input (never from the command line)."""
    return sys.stdin.buffer.readline().rstrip(b"\r\n")


SUBJECT = re.compile(r'<p id="subject">(.*?)</p>', re.S)
PROTOCOL = re.compile(r'<p id="protocol">(.*?)</p>', re.S)


def page_fields(source):
    """(subject, protocol) from the page client_cert_server.py serves, or None for a missing field."""
    import html
    subject = SUBJECT.search(source)
    protocol = PROTOCOL.search(source)
    return (html.unescape(subject.group(1)) if subject else None,
            html.unescape(protocol.group(1)) if protocol else None)
