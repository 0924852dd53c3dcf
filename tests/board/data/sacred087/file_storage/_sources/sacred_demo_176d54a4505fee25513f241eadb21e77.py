"""A small experiment recorded by Sacred 0.8.7 itself (fixture for sacredlite's board tests)."""
import sys

from sacred import Experiment
from sacred.observers import FileStorageObserver, MongoObserver

ex = Experiment("sacred_demo")
ex.observers.append(FileStorageObserver(sys.argv[1]))
ex.observers.append(MongoObserver(url=sys.argv[2], db_name="sacred_fixture"))


@ex.config
def cfg():
    lr = 0.1
    layers = {"n": 2, "act": "relu"}
    fail = False


@ex.main
def main(_run, lr, fail):
    for step in range(30):
        _run.log_scalar("loss", 1.0 / (1 + step * lr), step)
    _run.log_scalar("acc", 0.75)
    print("hello from sacred <b>")
    with open("result.txt", "w") as fh:
        fh.write("final loss is small\n")
    _run.add_artifact("result.txt")
    if fail:
        raise ValueError("sacred run failed on purpose")
    return lr * 2


if __name__ == "__main__":
    sys.argv = [sys.argv[0]] + sys.argv[3:]
    ex.run_commandline()
