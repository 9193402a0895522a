"""The textbook Python echo server (bench peer): socketserver's
ThreadingTCPServer, a thread per connection. Usage: threading_echo.py PORT"""
import socketserver
import sys


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                break
            self.request.sendall(data)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 4096


if __name__ == "__main__":
    with Server(("127.0.0.1", int(sys.argv[1])), Handler) as s:
        s.serve_forever()
