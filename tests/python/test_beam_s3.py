"""`openpose-tf beam` with everything on S3 (a local moto server on loopback: Beam's s3://
file system with --s3_endpoint_url and fake credentials): inputs, the JSON, rendered images, the
COCO file, dead letters and the pipeline SavedModel the workers fetch. The JSON objects equal
`run`'s files byte for byte; a corrupt object is a dead letter; a second run writes nothing new;
a run cut short and run again completes, with no half object under a final name."""

import json

import cv2
import numpy as np
import pytest

from openpose_tf import cli
from serve_process import free_port

boto3 = pytest.importorskip("boto3", reason="boto3 (apache-beam[aws]) is not installed")
moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed")

NET = ["--net_resolution", "-1x64"]
BUCKET = "poses"


@pytest.fixture(scope="module")
def s3():
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    try:
        server.start()
    except Exception as err:  # noqa: BLE001 - any reason the local S3 cannot start
        pytest.skip(f"the local S3 server (moto) could not start: {err}")
    url = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=url, aws_access_key_id="test",
                          aws_secret_access_key="test", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    flags = ["--s3_endpoint_url", url, "--s3_access_key_id", "test", "--s3_secret_access_key",
             "test", "--s3_region_name", "us-east-1"]
    yield client, flags
    server.stop()


def objects(client, prefix):
    found = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return {o["Key"][len(prefix):]: o for o in found}


def read(client, key) -> bytes:
    return client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def test_beam_on_s3(model_dir, s3, tmp_path):
    client, s3_flags = s3
    rng = np.random.default_rng(11)
    local = tmp_path / "in"
    local.mkdir()
    for i, size in enumerate(((70, 90), (64, 64), (50, 80))):
        data = cv2.imencode(".png", rng.integers(0, 256, size + (3,), np.uint8))[1].tobytes()
        (local / f"img{i}.png").write_bytes(data)
        client.put_object(Bucket=BUCKET, Key=f"in/img{i}.png", Body=data)
    client.put_object(Bucket=BUCKET, Key="in/broken9.jpg", Body=b"\xff\xd8 not a jpeg")
    video = tmp_path / "clip.avi"  # a video object: copied to the worker, cut into ranges
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    for t in range(5):
        writer.write(np.full((48, 64, 3), 40 * t, np.uint8))
    writer.release()
    client.put_object(Bucket=BUCKET, Key="in/clip.avi", Body=video.read_bytes())
    assert cli.main(["run", "--model", str(model_dir), "--image_dir", str(local),
                     "--write_json", str(tmp_path / "run"), "--no_progress"] + NET) == 0
    job = ["beam", "--model", str(model_dir), "--input", f"s3://{BUCKET}/in/*",
           "--output", f"s3://{BUCKET}/out", "--pipeline_dir", f"s3://{BUCKET}/pipeline",
           "--write_images", f"s3://{BUCKET}/pictures"] + NET + s3_flags
    # One COCO file over a video and images would repeat image ids: refused before the job.
    assert cli.main(job + ["--write_coco_json", f"s3://{BUCKET}/coco.json"]) == 2
    assert cli.main(job) == 1  # the dead letter
    out = objects(client, "out/")
    for i in range(3):
        assert read(client, f"out/img{i}_keypoints.json") == \
            (tmp_path / "run" / f"img{i}_keypoints.json").read_bytes()
    (letter,) = [json.loads(line) for line in
                 read(client, "out/dead_letters/dead_letters.jsonl").decode().splitlines()]
    assert letter["input"].endswith("broken9.jpg")
    assert sorted(objects(client, "pictures/")) == \
        [f"clip_{t:012d}_rendered.png" for t in range(5)] + \
        [f"img{i}_rendered.png" for i in range(3)]
    assert "saved_model.pb" in objects(client, "pipeline/")
    frames = sorted(k for k in out if k.startswith("clip_") and k.endswith("_keypoints.json"))
    assert frames == [f"clip_{t:012d}_keypoints.json" for t in range(5)]
    assert all(json.loads(read(client, f"out/{k}"))["version"] == 1.3 for k in frames)
    assert not [k for k in out if ".partial-" in k]

    # A second run writes no JSON again (frames whose JSON exists are skipped).
    job_json = [f for f in job if "pictures" not in f and f != "--write_images"]
    before = {k: o["LastModified"] for k, o in objects(client, "out/").items()
              if k.endswith("_keypoints.json")}
    assert cli.main(job_json) == 1
    after = {k: o["LastModified"] for k, o in objects(client, "out/").items()
             if k.endswith("_keypoints.json")}
    assert after == before

    # Cut short: one JSON missing and a temporary object left behind; the re-run completes it.
    client.delete_object(Bucket=BUCKET, Key="out/img1_keypoints.json")
    client.put_object(Bucket=BUCKET, Key="out/.img1_keypoints.json.partial-dead", Body=b"{")
    assert cli.main(job_json) == 1
    assert read(client, "out/img1_keypoints.json") == \
        (tmp_path / "run" / "img1_keypoints.json").read_bytes()


def test_beam_on_s3_with_two_worker_processes(model_dir, s3, tmp_path):
    """DirectRunner's multi_processing mode: every DoFn, the model handler (which fetches the
    pipeline from S3) and the op library are pickled and loaded in two fresh worker processes;
    the COCO file goes to S3 too."""
    client, s3_flags = s3
    rng = np.random.default_rng(12)
    local = tmp_path / "in"
    local.mkdir()
    for i in range(4):
        data = cv2.imencode(".png", rng.integers(0, 256, (60 + 4 * i, 80, 3), np.uint8))[1]
        (local / f"frame{i}.png").write_bytes(data.tobytes())
        client.put_object(Bucket=BUCKET, Key=f"mp/in/frame{i}.png", Body=data.tobytes())
    assert cli.main(["run", "--model", str(model_dir), "--image_dir", str(local),
                     "--write_json", str(tmp_path / "run"), "--no_progress"] + NET) == 0
    assert cli.main(["beam", "--model", str(model_dir), "--input", f"s3://{BUCKET}/mp/in/*",
                     "--output", f"s3://{BUCKET}/mp/out", "--pipeline_dir",
                     f"s3://{BUCKET}/mp/pipeline", "--direct_running_mode", "multi_processing",
                     "--direct_num_workers", "2", "--write_coco_json",
                     f"s3://{BUCKET}/mp/coco.json"] + NET + s3_flags) == 0
    coco = json.loads(read(client, "mp/coco.json"))
    assert isinstance(coco, list) and {entry["image_id"] for entry in coco} <= set(range(4))
    for i in range(4):
        assert read(client, f"mp/out/frame{i}_keypoints.json") == \
            (tmp_path / "run" / f"frame{i}_keypoints.json").read_bytes()
