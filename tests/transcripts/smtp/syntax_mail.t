# MAIL syntax errors
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
C: MAIL
S: 501 5.5.4 Syntax: MAIL FROM:<address> [SIZE=n] [BODY=8BITMIME] [SMTPUTF8] [RET=FULL|HDRS] [ENVID=x]
C: MAIL TO:<a@example.org>
S: 501 5.5.4 Syntax: MAIL FROM:<address> [parameters]
C: MAIL FROM:a@example.org
S: 501 5.1.7 Bad sender address syntax: the address must be enclosed in <>, as in <user@example.org>
C: MAIL FROM:<a@example.org
S: 501 5.1.7 Bad sender address syntax: missing closing '>'
C: MAIL FROM:<a@@example.org>
S: 501 5.1.7 Bad sender address syntax: '@' in the domain
C: MAIL FROM:<a@example.org> FOO=1
S: 555 5.5.4 Unsupported MAIL parameter FOO (this server knows SIZE, BODY, SMTPUTF8, RET, ENVID and AUTH)
C: MAIL FROM:<a@example.org> SIZE=big
S: 501 5.5.4 Bad SIZE value 'big': use the size in bytes, digits only
C: MAIL FROM:<a@example.org> BODY=9BIT
S: 501 5.5.4 Bad BODY value '9BIT': use 7BIT or 8BITMIME
C: QUIT
S: 221 2.0.0 Bye
