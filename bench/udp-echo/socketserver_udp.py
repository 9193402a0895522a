"""The textbook Python UDP echo server (bench peer): socketserver.UDPServer.
Usage: socketserver_udp.py PORT"""
import socketserver
import sys


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(data, self.client_address)


if __name__ == "__main__":
    with socketserver.UDPServer(("127.0.0.1", int(sys.argv[1])), Handler) as s:
        s.serve_forever()
