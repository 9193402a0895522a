# HELP lists the commands; HELP VERB shows its syntax
S: 220 mx.example.test ESMTP inetkit
C: HELP
S: 214-2.0.0 Commands: AUTH BDAT DATA EHLO HELO HELP MAIL NOOP QUIT RCPT RSET STARTTLS VRFY
S: 214 2.0.0 HELP command shows its syntax; see inetkit-smtpd(8)
C: HELP MAIL
S: 214 2.0.0 Syntax: MAIL FROM:<address> [SIZE=n] [BODY=8BITMIME] [SMTPUTF8] [RET=FULL|HDRS] [ENVID=x]
C: HELP rcpt
S: 214 2.0.0 Syntax: RCPT TO:<address> [NOTIFY=NEVER|SUCCESS,FAILURE,DELAY] [ORCPT=rfc822;address]
C: HELP BDAT
S: 214 2.0.0 Syntax: BDAT chunk-size [LAST]
C: HELP XYZZY
S: 504 5.5.1 HELP: no such command; HELP lists them
C: QUIT
S: 221 2.0.0 Bye
