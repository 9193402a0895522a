# SYST, NOOP, HELP and FEAT are allowed before login
S: 220 {*}
C: SYST
S: 215 UNIX Type: L8
C: NOOP
S: 200 NOOP ok.
C: HELP RETR
S: 214 Syntax: RETR <sp> pathname
C: QUIT
S: 221 Goodbye.
