# RCPT syntax errors
S: 220 mx.example.test ESMTP inetkit
C: EHLO client.example
S: 250-mx.example.test Hello client.example
S: 250-PIPELINING
S: 250-SIZE 26214400
S: 250-STARTTLS
S: 250-ENHANCEDSTATUSCODES
S: 250-8BITMIME
S: 250-DSN
S: 250-SMTPUTF8
S: 250 CHUNKING
C: MAIL FROM:<a@example.org>
S: 250 2.1.0 Ok
C: RCPT
S: 501 5.5.4 Syntax: RCPT TO:<address> [NOTIFY=NEVER|SUCCESS,FAILURE,DELAY] [ORCPT=rfc822;address]
C: RCPT FROM:<alice@localhost>
S: 501 5.5.4 Syntax: RCPT TO:<address> [parameters]
C: RCPT TO:alice@localhost
S: 501 5.1.3 Bad recipient address syntax: the address must be enclosed in <>, as in <user@example.org>
C: RCPT TO:<alice@localhost> NOTIFY=SOMETIMES
S: 501 5.5.4 Bad NOTIFY value 'SOMETIMES': use NEVER, or a comma-separated list of SUCCESS, FAILURE and DELAY
C: RCPT TO:<alice@localhost> COLOR=red
S: 555 5.5.4 Unsupported RCPT parameter COLOR (this server knows NOTIFY and ORCPT)
C: RCPT TO:<>
S: 501 5.1.3 Bad recipient address syntax: the null address <> is only allowed as a sender
C: RCPT TO:<;sleep 3;@localhost>
S: 501 5.1.3 Bad recipient address syntax: ';' in the local part
C: QUIT
S: 221 2.0.0 Bye
