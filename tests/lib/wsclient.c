/* wsclient.c: placeholder until the C test client lands. */
typedef int cw_wsclient_placeholder;
