/*
 * pmhc-notify-listen SOCKET: stands in for systemd's notification socket. It
 * binds a Unix datagram socket at SOCKET and prints each message it receives
 * on one line (its newlines become spaces), until SIGTERM or SIGINT. A test
 * starts pmhcd with NOTIFY_SOCKET=SOCKET and reads what it told "systemd".
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* sd_notify's messages are a few short lines. */
#define MSG_LEN 4096

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

int main(int argc, char **argv)
{
	if (argc != 2 || strlen(argv[1]) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		fprintf(stderr, "usage: pmhc-notify-listen SOCKET (a path shorter than 108 bytes)\n");
		return 64;
	}
	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: recv returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s", argv[1]);
	unlink(a.sun_path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		fprintf(stderr, "pmhc-notify-listen: %s: %s\n", argv[1], strerror(errno));
		return 71;
	}
	char msg[MSG_LEN];
	while (!stopping) {
		ssize_t n = recv(fd, msg, sizeof msg - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "pmhc-notify-listen: %s\n", strerror(errno));
			return 74;
		}
		msg[n] = '\0';
		for (char *c = msg; *c; c++)
			if (*c == '\n')
				*c = ' ';
		printf("%s\n", msg);
		fflush(stdout);
	}
	close(fd);
	unlink(a.sun_path);
	return 0;
}
