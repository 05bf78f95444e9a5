"""Runs the command given (`hopeit_server run ...`) until standard input closes.

The tests start each server through this script, with a pipe as its standard input and in a
process group of its own. The pipe closes when the test process ends, however it ends, and the
whole group goes with it: a server never outlives its test. SIGTERM to the group stops the
server cleanly, and this script ends when the server has.
"""

import os
import signal
import subprocess
import sys
import threading

# The server handles the group's SIGTERM itself; this script waits for it to end.
signal.signal(signal.SIGTERM, lambda *_: None)
server = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL)
# A server that stops on its own (a port taken, a bad config) ends this script with its status.
threading.Thread(target=lambda: os._exit(server.wait()), daemon=True).start()
sys.stdin.read()
os.killpg(0, signal.SIGKILL)
