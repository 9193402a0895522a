# STAT without an argument describes the session
@user alice
S: 220 {*}
C: USER alice
S: 331 {*}
C: PASS {password}
S: 230 Login successful.
C: TYPE I
S: 200 Switching to Binary mode.
C: STAT
S: 211-inetkit {*} FTP server status:
S:  Connected from 127.0.0.1:{n}
S:  Logged in as alice
S:  Control connection: plain; data connections: clear (PROT C)
S:  TYPE: BINARY; STRUcture: File; transfer MODE: Stream
S:  Idle timeout: 300 seconds
S:  Bytes received: {n}; bytes sent: {n}
S:  No data connection
S: 211 End of status
C: QUIT
S: 221 Goodbye.
