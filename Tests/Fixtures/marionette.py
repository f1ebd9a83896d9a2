"""Just enough of a Marionette client (Firefox's built-in remote protocol; Debian has no geckodriver),
shared by the TLS client-authentication driver and the WebExtension driver: commands
[0, id, name, parameters] and answers [1, id, error, result], each framed as `<length>:<json>` over TCP."""
import json
import socket
import time


def free_port():
    """A loopback port nobody listens on now (for Marionette's)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MarionetteError(Exception):
    def __init__(self, error, message):
        super().__init__(f"{error}: {message}")
        self.error = error
        self.message = message


class MarionetteClient:
    def __init__(self, port, deadline, alive=lambda: True):
        """Connects to 127.0.0.1:port until `deadline` (time.monotonic()) or until `alive()` is false,
        then reads the greeting."""
        while True:
            try:
                self.socket = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline or not alive():
                    raise MarionetteError("start", f"Marionette never listened on port {port}")
                time.sleep(0.2)
        self.socket.settimeout(None)
        self.next_id = 0
        self.receive()  # the greeting: applicationType, marionetteProtocol

    def receive(self):
        length = b""
        while not length.endswith(b":"):
            byte = self.socket.recv(1)
            if not byte:
                raise MarionetteError("marionette", "Firefox closed the connection")
            length += byte
        size = int(length[:-1])
        data = b""
        while len(data) < size:
            chunk = self.socket.recv(size - len(data))
            if not chunk:
                raise MarionetteError("marionette", "Firefox closed the connection")
            data += chunk
        return json.loads(data)

    def command(self, name, parameters=None, timeout=None):
        """The command's result; its error as a MarionetteError."""
        self.next_id += 1
        message = json.dumps([0, self.next_id, name, parameters or {}]).encode()
        self.socket.settimeout(timeout)
        self.socket.sendall(str(len(message)).encode() + b":" + message)
        while True:
            answer = self.receive()
            if answer[0] == 1 and answer[1] == self.next_id:
                break
        if answer[2]:
            raise MarionetteError(answer[2].get("error", "marionette"), answer[2].get("message", ""))
        return answer[3]
