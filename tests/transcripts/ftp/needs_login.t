# commands the table marks as needing a login are refused before it
S: 220 {*}
C: LIST
S: 530 Please log in with USER and PASS first.
C: CWD pub
S: 530 Please log in with USER and PASS first.
C: PWD
S: 530 Please log in with USER and PASS first.
C: RETR pub/hello.txt
S: 530 Please log in with USER and PASS first.
C: PASV
S: 530 Please log in with USER and PASS first.
C: TYPE I
S: 530 Please log in with USER and PASS first.
C: QUIT
S: 221 Goodbye.
