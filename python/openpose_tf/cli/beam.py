"""`openpose-tf beam`: the body pipeline over large image and video collections on Apache Beam.

    openpose-tf beam --model DIR --input 'photos/*.jpg' --input 'clips/*.mp4' --output OUT
    openpose-tf beam --frozen_graph graph.pb --model_pose COCO --input 'photos/*' --output OUT
    openpose-tf beam --model DIR --input 'data/*' --output OUT --runner DirectRunner \
        --direct_num_workers 2 --direct_running_mode multi_processing

Writes OUT/<name>_keypoints.json per image or frame (the names and bytes of `openpose-tf run
--write_json`), OUT/dead_letters/dead_letters.jsonl (inputs that failed, and why: they never fail
the job) and, from the network, the whole-pipeline SavedModel the workers load
(--pipeline_dir, default OUT/pipeline_model). Frames whose JSON exists are not redone (unless
--write_coco_json), so a failed job is simply run again. Options this command does not know
(--runner, --project, --temp_location, --direct_num_workers...) go to Beam. Needs
`pip install openpose-tf[beam]`.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

from openpose_tf.cli import flags


def register(commands) -> None:
    beam = commands.add_parser(
        "beam", help="the same JSON for large image/video collections, on Apache Beam",
        description=__doc__.split("\n\n")[0] + " " + __doc__.split("\n\n")[2].replace("\n", " "),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    model = flags.add_network_arguments(beam)
    model.add_argument("--pipeline_model",
                       help="a whole-pipeline SavedModel (PoseExtractor.save, or the "
                            "--pipeline_dir of an earlier run); the pose flags are then its own")
    beam.add_argument("--pipeline_dir",
                      help="where --model's whole-pipeline SavedModel is written; workers read "
                           "it, so on a cluster a shared path (gs://...) (default: "
                           "OUT/pipeline_model)")
    beam.add_argument("--input", action="append", required=True,
                      help="a glob of images and videos (any Beam file system); repeatable")
    beam.add_argument("--output", required=True,
                      help="folder for <name>_keypoints.json and dead_letters/ (local or a "
                           "shared mount: workers write there)")
    beam.add_argument("--frame_step", type=int, default=1,
                      help="process every n-th frame of each video (0, n, 2n...)")
    beam.add_argument("--frames_per_range", type=int, default=300,
                      help="video frames per work item (a long video spreads over workers)")
    flags.add_input_arguments(beam)
    flags.add_frame_output_arguments(beam)
    flags.add_pose_arguments(beam)
    flags.add_hand_face_arguments(beam)
    flags.add_batch_arguments(beam, default_batch_size=None)
    beam.set_defaults(run=_run, pipeline_options=True)


def _run(args) -> int:
    import pathlib

    from openpose_tf import beam, media, outputs

    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions

    # Beam's file-system options (--s3_endpoint_url, credentials...) for this process too.
    FileSystems.set_options(PipelineOptions(list(args.pipeline_args)))
    step = media.check_step(args.frame_step)
    flags.check_input_arguments(args)
    outputs.check_options(flags.output_options(args))  # before the job, not on each worker
    outputs.check_keypoint_scale(args.keypoint_scale)  # before the job, not on each worker
    if (args.batch_size is not None and args.batch_size < 1) or args.frames_per_range < 1:
        raise ValueError("--batch_size and --frames_per_range must be >= 1")
    _check_output(args.output)  # one clear message before the job, not a worker's traceback
    unmatched = _unmatched(args.input, coco=bool(args.write_coco_json))
    pipeline_model = args.pipeline_model
    if not pipeline_model:
        network, pose = flags.network_from_args(args)
        pipeline_model = args.pipeline_dir or FileSystems.join(args.output, "pipeline_model")
        extractor = flags.make_extractor(args, network, pose)
        if beam.is_local(pipeline_model):
            extractor.save(pipeline_model)
        else:  # saved here, then copied where the workers read it
            import tempfile

            with tempfile.TemporaryDirectory() as local:
                extractor.save(pathlib.Path(local) / "pipeline")
                beam.stage_pipeline(pathlib.Path(local) / "pipeline", pipeline_model)
        print(f"openpose-tf beam: wrote the whole-pipeline SavedModel {pipeline_model}",
              file=sys.stderr)
    elif args.one_image_per_call != "auto":
        print("openpose-tf beam: --one_image_per_call is ignored with --pipeline_model (the "
              "model's own batch rule holds)", file=sys.stderr)
    metadata = beam.pipeline_metadata(pipeline_model)
    job = beam.BeamRun(
        inputs=args.input, output=args.output, pipeline_model=pipeline_model,
        pose_model=metadata["pose_model"], frame_step=step,
        frames_per_range=args.frames_per_range,
        batch_size=args.batch_size or int(metadata.get("batch_size", 1)),
        max_image_pixels=args.max_image_pixels,
        outputs=flags.output_options(args))
    start = time.perf_counter()
    dead = beam.run_pipeline(job, args.pipeline_args)
    print(f"openpose-tf beam: done in {time.perf_counter() - start:.1f} s, {len(dead)} dead "
          f"letters{f' in {beam.dead_letters_path(args.output)}' if dead else ''}",
          file=sys.stderr)
    return 1 if dead or unmatched else 0


def _check_output(output: str) -> None:
    """A local --output must be a folder this process can create and write in."""
    import tempfile

    from openpose_tf import beam

    if not beam.is_local(output):
        return
    folder = pathlib.Path(output)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise ValueError(f"--output {output}: cannot write there ({err.strerror or err})") \
            from None


def _unmatched(globs, coco: bool = False) -> list[str]:
    """The --input globs that match no file (on any Beam file system), each said in a line;
    inputs that would write the same outputs (`x/a.jpg` and `y/a.jpg`), or with `coco` the same
    COCO image id, refused before the job (as `run` does)."""
    from apache_beam.io.filesystems import FileSystems

    from openpose_tf import media

    matches = [FileSystems.match([glob])[0].metadata_list for glob in globs]
    unmatched = [glob for glob, found in zip(globs, matches) if not found]
    for glob in unmatched:
        print(f"openpose-tf beam: --input {glob} matches no file", file=sys.stderr)
    paths = sorted({metadata.path for found in matches for metadata in found})
    media.check_unique_names(paths)
    if coco:
        from openpose_tf import coco_json

        images = [p for p in paths if pathlib.PurePath(p).suffix.lower() in
                  media.IMAGE_EXTENSIONS]
        videos = [p for p in paths if pathlib.PurePath(p).suffix.lower() in
                  media.VIDEO_EXTENSIONS]
        if videos and (images or len(videos) > 1):  # frame k of each video is image_id k
            raise ValueError(f"--write_coco_json: {videos[0]!r} and "
                             f"{(images or videos[1:])[0]!r} would repeat image ids (a video's "
                             "frames are numbered from 0); write one COCO file per video")
        coco_json.check_unique_ids(pathlib.PurePath(p).stem for p in images)
    return unmatched
