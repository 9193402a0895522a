# anonymous login with an e-mail address as the password, then QUIT
S: 220 inetkit FTP server ready.
C: USER anonymous
S: 331 Anonymous login: send your e-mail address as the password.
C: PASS guest@example.org
S: 230 Anonymous access granted: read-only; uploads go to /incoming.
C: PWD
S: 257 "/" is the current directory
C: QUIT
S: 221 Goodbye.
= closed
