"""OpenPose over collections larger than one machine: an Apache Beam pipeline (RunInference).

    openpose-tf beam --model DIR --input 'photos/*.jpg' --input 'clips/*.mp4' --output OUT
        [--runner DirectRunner | DataflowRunner | FlinkRunner | SparkRunner] [pipeline options]

Needs the optional Beam SDK (`pip install openpose-tf[beam]`); `import openpose_tf` does not.

The stages, each a transform below:
1. `MatchFiles` over the globs; `SplitInputs`: an image is one work item, a video is cut into
   ranges of `frames_per_range` frames, so one long video spreads over workers. A `Reshuffle`
   spreads the items.
2. `DecodeFrames`: OpenCV reads the images and the ranges' frames (every `frame_step`-th, named
   as `openpose-tf run` names them) and leaves out frames whose JSON already exists (unless a
   COCO file is written, which needs every frame).
3. `RunInference` with `PoseModelHandler`, keyed by frame: each worker loads our op library,
   then the whole-pipeline SavedModel (`PoseExtractor.save`: geometry, network, post-processing
   in one graph), and runs batches of frames under the batch rule it was saved with
   (`serving.SavedPipeline`: same-sized frames `batch_size` at a time, every call padded).
4. `WriteFrames`: `OUT/<name>_keypoints.json`, byte for byte what `openpose-tf run --write_json`
   writes (temporary name, then rename), optionally rendered images, and the rows of one COCO
   results file.
Whatever fails (a file that is neither an image nor a video, an unreadable image, a video that
does not open, an undecodable frame, a failed inference batch) becomes a dead letter, never a
failed job: `OUT/dead_letters/dead_letters.jsonl`, one `{"input", "frame", "reason"}` per line,
sorted, rewritten by every run (removed by a run that has none). Re-running over the same
inputs rewrites identical files, so a failed job is simply run again. Every output goes through
Beam's file systems (local, gs://, s3://...): `write_file` writes a temporary name, then renames.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import pathlib
import shutil
import tempfile
import uuid
from typing import Any, Iterable, Sequence

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.ml.inference import base as inference

from openpose_tf import coco_json, media, outputs, pose_models
from openpose_tf.common import error_reason, write_atomic
from openpose_tf.outputs import OutputOptions

DEAD = "dead_letters"
DEAD_LETTERS_FILE = pathlib.PurePath("dead_letters") / "dead_letters.jsonl"


@dataclasses.dataclass(frozen=True)
class BeamRun:
    """What one pipeline run does (the CLI's flags)."""
    inputs: Sequence[str]              # file globs (any Beam file system: local, gs://, s3://...)
    output: str                        # the JSON folder; dead letters under it
    pipeline_model: str                # a whole-pipeline SavedModel (PoseExtractor.save)
    pose_model: str
    frame_step: int = 1
    frames_per_range: int = 300
    batch_size: int | None = None      # images per network call; None: the pipeline's
    max_image_pixels: int = media.MAX_IMAGE_PIXELS
    # `run`'s per-frame outputs (keypoint scale, pictures, rendering; write_coco_json: one file
    # for the job). The JSON goes to `output`; videos are not written.
    outputs: OutputOptions = dataclasses.field(default_factory=OutputOptions)

    @property
    def write_coco_json(self) -> str | None:
        return self.outputs.write_coco_json


def is_local(path: str) -> bool:
    return FileSystems.get_scheme(path) in (None, "file")


def write_file(path: str, data: str | bytes) -> None:
    """`data` to `path` on any Beam file system (a local path, gs://, s3://...), never half a
    file under the final name: written under a temporary name beside it, then renamed. On an
    object store the rename is a copy and a delete: a crash between the two leaves the complete
    object under its final name and the temporary `.<name>.partial-<id>` object beside it (a
    crash before leaves only the temporary object; the next run writes the final one)."""
    if is_local(path):
        write_atomic(path, data)
        return
    data = data.encode("utf-8") if isinstance(data, str) else data
    directory, name = path.rsplit("/", 1)
    temporary = f"{directory}/.{name}.partial-{uuid.uuid4().hex}"
    with FileSystems.create(temporary, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        f.write(data)
    FileSystems.rename([temporary], [path])


def stage_pipeline(local: pathlib.Path, target: str) -> None:
    """A whole-pipeline SavedModel folder written here, copied to `target` on any Beam file
    system (where the workers read it)."""
    for file in sorted(local.rglob("*")):
        if file.is_file():
            write_file(FileSystems.join(target, *file.relative_to(local).parts),
                       file.read_bytes())


def fetch_pipeline(source: str) -> str:
    """A local folder holding the pipeline SavedModel at `source`: itself when local, else a
    copy in a temporary folder of this worker (TensorFlow loads local files)."""
    if is_local(source):
        return source
    root = source.rstrip("/")
    local = pathlib.Path(tempfile.mkdtemp(prefix="openpose_tf_pipeline_"))
    for metadata in FileSystems.match([root + "/**"])[0].metadata_list:
        destination = local / metadata.path[len(root) + 1:]
        destination.parent.mkdir(parents=True, exist_ok=True)
        with FileSystems.open(metadata.path,
                              compression_type=CompressionTypes.UNCOMPRESSED) as f:
            destination.write_bytes(f.read())
    return str(local)


def json_path(output: str, name: str) -> str:
    return FileSystems.join(output, f"{name}_keypoints.json")


def dead_letter(path: str, reason: str, frame: int | None = None) -> dict:
    return {"input": str(path), "frame": frame, "reason": reason}


def text_paths(metadata) -> Iterable[Any]:
    """A matched file's path, or a dead letter when its name is not UTF-8 (bytes a Latin-1
    system wrote: Python holds them as surrogates, which Beam's coders cannot carry)."""
    path = metadata.path
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        shown = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        yield beam.pvalue.TaggedOutput(DEAD, dead_letter(
            shown, "the file name is not UTF-8, which Beam cannot carry; rename the file (e.g. "
            "convmv -f latin1 -t utf8), or use `openpose-tf run`, which reads any name"))
        return
    yield path


class SplitInputs(beam.DoFn):
    """A matched file -> work items `(path, first frame, stop frame)`: (path, None, None) for an
    image, frame ranges for a video (the last one open-ended: containers' frame counts are
    estimates)."""

    def __init__(self, frame_step: int, frames_per_range: int):
        self.frame_step = frame_step
        # Ranges hold whole steps, so each range's first frame is one that is processed.
        self.span = max(1, frames_per_range // frame_step) * frame_step

    def process(self, path: str) -> Iterable[Any]:
        suffix = pathlib.PurePath(path).suffix.lower()
        if suffix in media.IMAGE_EXTENSIONS:
            yield path, None, None
        elif suffix in media.VIDEO_EXTENSIONS:
            try:
                with _local_file(path) as local:
                    count, _ = media.video_properties(local)
            except (ValueError, OSError) as err:
                yield beam.pvalue.TaggedOutput(DEAD, dead_letter(path, str(err)))
                return
            starts = list(range(0, max(count, 1), self.span))
            for i, start in enumerate(starts):
                yield path, start, starts[i + 1] if i + 1 < len(starts) else None
        else:
            yield beam.pvalue.TaggedOutput(DEAD, dead_letter(
                path, f"not an image or video file (extension {suffix or 'none'!r})"))


class DecodeFrames(beam.DoFn):
    """A work item -> `((name, path, frame index), BGR image)` per frame to process. Files are
    read through Beam's file systems (a remote video is copied to a local temporary file first:
    OpenCV reads local files)."""

    def __init__(self, frame_step: int, json_dir: str | None, coco: bool,
                 max_pixels: int = media.MAX_IMAGE_PIXELS):
        self.frame_step = frame_step
        self.json_dir = json_dir  # None: every frame is needed (a COCO file is written)
        self.coco = coco
        self.max_pixels = max_pixels

    def _done(self, name: str) -> bool:
        return self.json_dir is not None and FileSystems.exists(json_path(self.json_dir, name))

    def process(self, item) -> Iterable[Any]:
        path, start, stop = item
        try:
            frames = self._image(path) if start is None else self._video(path, start, stop)
            for name, index, image, error in frames:
                if image is not None and self.coco:
                    coco_json.image_id(name)  # the COCO file needs a number at its end
                if image is None:
                    yield beam.pvalue.TaggedOutput(DEAD, dead_letter(path, error, index))
                else:
                    yield (name, path, index), image
        except (ValueError, OSError) as err:
            yield beam.pvalue.TaggedOutput(DEAD, dead_letter(path, str(err), start))

    def _image(self, path):
        name = pathlib.PurePath(path).stem
        if self._done(name):
            return
        with FileSystems.open(path) as f:
            data = f.read()
        try:
            yield name, None, media.decode_image(data, self.max_pixels), ""
        except ValueError as err:
            yield name, None, None, f"{path}: {err}"

    def _video(self, path, start, stop):
        with _local_file(path) as local:
            # Named (and checked for being done) after the input, not a local copy.
            for frame in media.video_frames(local, self.frame_step, self._done, start, stop,
                                            stem=pathlib.PurePath(path).stem):
                yield frame.name, frame.index, frame.image, \
                    frame.error.replace(str(local), str(path))


@contextlib.contextmanager
def _local_file(path: str):
    """`path` itself when it is local, else a local temporary copy."""
    if is_local(path):
        yield path
        return
    suffix = pathlib.PurePath(path).suffix
    with tempfile.NamedTemporaryFile(suffix=suffix) as local:
        with FileSystems.open(path) as remote:
            shutil.copyfileobj(remote, local)
        local.flush()
        yield local.name


class PoseModelHandler(inference.ModelHandler):
    """RunInference's handler for a whole-pipeline SavedModel: `load_model` loads our op library,
    then the model, on each worker; `run_inference` takes a batch of BGR uint8 images (any sizes)
    and returns one `PredictionResult(image, common.People)` each, or the exception for an image
    the pipeline fails on.

    The network runs under the batch rule the pipeline was saved with (`pipeline`: same-sized
    images `batch_size` at a time, every call padded to that size, or one image per call for a
    network with batch statistics): how Beam batches elements never changes a result, and the
    JSON equals `openpose-tf run`'s at the same `--batch_size`. `batch_size` overrides the saved
    one."""

    def __init__(self, pipeline_model: str, batch_size: int | None = None):
        super().__init__(min_batch_size=1, max_batch_size=max(8, batch_size or 1))
        self.pipeline_model = pipeline_model
        self.batch_size = batch_size

    def load_model(self):
        from openpose_tf import serving

        # Loads the op library first; a pipeline on a remote file system is fetched here first.
        return serving.load_saved_model(fetch_pipeline(self.pipeline_model), self.batch_size)

    def run_inference(self, batch, model, inference_args=None):
        batch = list(batch)
        people = model.people_or_errors(batch)
        return [inference.PredictionResult(image, person) for image, person in zip(batch, people)]

    def get_num_bytes(self, batch) -> int:
        return sum(image.nbytes for image in batch)

    def get_metrics_namespace(self) -> str:
        return "openpose_tf"


class WriteFrames(beam.DoFn):
    """`(key, PredictionResult)` -> the frame's files; yields `(name, keypoints, scores)` for the
    COCO file when one is written, and a dead letter for a frame whose inference failed."""

    def __init__(self, run: BeamRun):
        self.run = run

    def setup(self):
        self.model = pose_models.get(self.run.pose_model)

    def process(self, element) -> Iterable[Any]:
        (name, path, index), result = element
        image, people = result.example, result.inference
        if isinstance(people, Exception):
            yield beam.pvalue.TaggedOutput(DEAD, inference_letter(path, index, people))
            return
        options = self.run.outputs
        # The bytes `run` writes (the same functions of outputs), through Beam's file systems.
        keypoints = outputs.scaled_keypoints(people, image, options.keypoint_scale)
        write_file(json_path(self.run.output, name), outputs.keypoints_json(keypoints))
        if options.write_images:
            image_format = outputs.images_format(options)
            rendered = outputs.render_frame(image, people, self.model, options)
            write_file(FileSystems.join(options.write_images, f"{name}_rendered.{image_format}"),
                       media.encode_image(f".{image_format}", rendered))
        if self.run.write_coco_json:
            yield name, keypoints["pose_keypoints_2d"], people.scores


def inference_letter(path: str, index: int | None, error: Exception) -> dict:
    return dead_letter(path, f"inference failed: {type(error).__name__}: {error_reason(error)}",
                       index)


def failed_batch_letters(failure) -> Iterable[dict]:
    """RunInference's `(failed batch, exception)` -> one dead letter per frame of the batch."""
    batch, error = failure
    for (_, path, index), _ in batch:
        yield inference_letter(path, index, error)


def dead_letters_path(output: str) -> str:
    return FileSystems.join(output, *DEAD_LETTERS_FILE.parts)


def write_dead_letters(letters: list, output: str) -> None:
    """This run's dead letters, sorted; none: no file (an earlier run's is removed). An empty
    object cannot be written through Beam's S3 file system (a multipart upload of no part)."""
    path = dead_letters_path(output)
    if not letters:
        if FileSystems.exists(path):
            FileSystems.delete([path])
        return
    lines = sorted(json.dumps(letter, sort_keys=True) for letter in letters)
    write_file(path, "".join(line + "\n" for line in lines))


def write_coco(rows: list, run: BeamRun) -> None:
    """One COCO results file, frames in name order (as `openpose-tf run` over one folder or one
    video writes them)."""
    results = coco_json.CocoResults(run.pose_model)
    for name, keypoints, scores in sorted(rows, key=lambda row: row[0]):
        results.add(name, keypoints, scores)
    write_file(run.write_coco_json, results.text())


def build(pipeline: beam.Pipeline, run: BeamRun) -> None:
    """Adds the whole job to `pipeline` (see the module docstring)."""
    matched = (pipeline
               | "Globs" >> beam.Create(list(run.inputs))
               | "Match" >> fileio.MatchAll()
               | "Paths" >> beam.FlatMap(text_paths).with_outputs(DEAD, main="paths"))
    paths = matched.paths
    split = paths | "Split" >> beam.ParDo(
        SplitInputs(run.frame_step, run.frames_per_range)).with_outputs(DEAD, main="items")
    decoded = (split.items
               | "Spread" >> beam.Reshuffle()
               | "Decode" >> beam.ParDo(DecodeFrames(
                   run.frame_step, None if run.write_coco_json else run.output,
                   bool(run.write_coco_json), run.max_image_pixels))
               .with_outputs(DEAD, main="frames"))
    handler = inference.KeyedModelHandler(PoseModelHandler(run.pipeline_model, run.batch_size))
    results, failed = (decoded.frames
                       | "Pose" >> inference.RunInference(handler).with_exception_handling())
    written = results | "Write" >> beam.ParDo(WriteFrames(run)).with_outputs(DEAD, main="rows")
    if run.write_coco_json:
        _ = (written.rows | "CocoRows" >> beam.combiners.ToList()
             | "Coco" >> beam.Map(write_coco, run))
    failures = failed.failed_inferences | "FailedBatches" >> beam.FlatMap(failed_batch_letters)
    _ = ((matched[DEAD], split[DEAD], decoded[DEAD], written[DEAD], failures)
         | "DeadLetters" >> beam.Flatten()
         | "AllDead" >> beam.combiners.ToList()
         | "WriteDead" >> beam.Map(write_dead_letters, run.output))


def pipeline_metadata(pipeline_model: str) -> dict:
    """The openpose_tf.json of a whole-pipeline SavedModel on any Beam file system: its pose
    model, settings and batch rule."""
    from openpose_tf import serving

    path = FileSystems.join(pipeline_model, serving.METADATA)
    try:
        with FileSystems.open(path) as f:
            metadata = json.loads(f.read())
    except (OSError, ValueError) as err:  # Beam raises IOError subclasses
        metadata = {"error": str(err)}
    if metadata.get("kind") != "pose_pipeline":
        raise ValueError(f"{pipeline_model} is not a whole-pipeline SavedModel written by "
                         f"PoseExtractor.save or `openpose-tf beam` ({path}: "
                         f"{metadata.get('error') or 'another kind of model'})")
    return metadata


def run_pipeline(run: BeamRun, pipeline_args: Sequence[str] = ()) -> list[dict]:
    """Runs the job to completion with the Beam options in `pipeline_args` (`--runner`...);
    returns the dead letters."""
    from apache_beam.options.pipeline_options import PipelineOptions

    with beam.Pipeline(options=PipelineOptions(list(pipeline_args))) as pipeline:
        build(pipeline, run)
    path = dead_letters_path(run.output)
    if not FileSystems.exists(path):
        return []
    with FileSystems.open(path) as f:
        return [json.loads(line) for line in f.read().decode("utf-8").splitlines()]
