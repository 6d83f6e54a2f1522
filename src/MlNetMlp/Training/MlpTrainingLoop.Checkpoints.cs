using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.ML.Runtime;
using MlNetMlp.Interop;

namespace MlNetMlp.Training
{
    internal sealed unsafe partial class MlpTrainingLoop
    {
        /// <summary>Where a run continues: the epochs already trained, whether they ended it (early stop or the last
        /// epoch), and the training time they took.</summary>
        private readonly record struct ResumePoint(int EpochsDone, bool Finished, TimeSpan Elapsed);

        private bool WritesCheckpoints => _options.CheckpointPath != null;

        /// <summary>The settings a checkpoint must agree with to be resumed.</summary>
        private string CheckpointFingerprint(MlpNetwork[] networks, long totalRows, RowSelection train, int seed, DataParallel ranks) =>
            TrainingCheckpoint.Fingerprint(new (string, object)[]
            {
                ("layers", string.Join("-", networks[0].LayerSizes)), ("activation", networks[0].Activation),
                ("members", networks.Length), ("epochs", _plan.Epochs), ("batch", _plan.BatchSize), ("seed", seed),
                ("optimizer", _options.Optimizer), ("precision", _options.Precision), ("shuffle", _options.Shuffle), ("rows", totalRows), ("sharding", ranks?.IsSharded == true ? _options.DataSharding : MlpDataSharding.Replicated),
                ("ranks", ranks?.Size ?? 1),
                ("data", train.Set is StreamingTrainingSet ? "streamed" : train.Set.IsSparse ? "sparse" : "dense"),
            });

        /// <summary>Whether epoch <paramref name="epoch"/> ends with a checkpoint: every CheckpointInterval-th, and the
        /// one that ends training.</summary>
        private bool ChecksPoint(int epoch, bool ending) => WritesCheckpoints && (ending || epoch % _options.CheckpointInterval == 0);

        /// <summary>Writes the run's state after <paramref name="epoch"/> (rank 0 only in data-parallel training).</summary>
        private void WriteCheckpoint(string fingerprint, Member[] members, int epoch, bool finished, TimeSpan elapsed,
            List<MlpEpochReport> history, BestEpoch best, DataParallel ranks)
        {
            if (ranks != null && ranks.Rank != 0)
                return;
            try
            {
                WriteCheckpointFile(fingerprint, members, epoch, finished, elapsed, history, best);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw _ch.Except(e, $"Cannot write the checkpoint '{_options.CheckpointPath}' after epoch {epoch}: {e.Message} " +
                    "Set CheckpointPath to a writable file.");
            }
            _ch.Info($"Checkpoint after epoch {epoch} written to '{_options.CheckpointPath}'.");
        }

        private void WriteCheckpointFile(string fingerprint, Member[] members, int epoch, bool finished, TimeSpan elapsed,
            List<MlpEpochReport> history, BestEpoch best)
        {
            TrainingCheckpoint.Write(_options.CheckpointPath, fingerprint, w =>
            {
                w.Write(epoch);
                w.Write(finished);
                w.Write(elapsed.Ticks);
                MlpModelSerialization.WriteHistory(w, history.ToArray());
                w.Write(members.Length);
                foreach (var m in members)
                {
                    TrainingCheckpoint.WriteLayers(w, TrainingCheckpoint.LayersOf(m.Network));
                    TrainingCheckpoint.WriteBytes(w, TrainerState(m.Trainer));
                    m.Schedule.Save(w);
                }
                best.Save(w);
            });
        }

        /// <summary>With ResumeFromCheckpoint and a checkpoint file: puts the members, the best epoch and the history
        /// back where the checkpoint left them and replays the minibatch order of the epochs done. Rank 0 reads the file
        /// and broadcasts it. Without a file: a fresh start (EpochsDone 0).</summary>
        private ResumePoint ResumeFromCheckpoint(string fingerprint, Member[] members, List<MlpEpochReport> history, BestEpoch best,
            DataParallel ranks, StreamingTrainingSet streamed)
        {
            string path = _options.CheckpointPath;
            if (Directory.Exists(path))
                throw _ch.ExceptParam(nameof(MlpTrainerOptionsBase.CheckpointPath), $"CheckpointPath '{path}' is a directory: name a file in it.");
            if (!_options.ResumeFromCheckpoint)
                return default;
            byte[] bytes = ranks == null || ranks.Rank == 0 ? (File.Exists(path) ? File.ReadAllBytes(path) : null) : null;
            if (ranks != null)
                bytes = ranks.BroadcastBytes(bytes);
            if (bytes == null)
            {
                _ch.Info($"No checkpoint at '{path}': training starts from the beginning.");
                return default;
            }
            BinaryReader r;
            try
            {
                r = TrainingCheckpoint.Open(bytes, path, fingerprint);
            }
            catch (InvalidDataException e)
            {
                throw _ch.Except(e, e.Message);
            }
            ResumePoint point;
            using (r)
                try
                {
                    point = new ResumePoint(r.ReadInt32(), r.ReadBoolean(), TimeSpan.FromTicks(r.ReadInt64()));
                    if (point.EpochsDone < 1 || point.EpochsDone > _plan.Epochs)
                        throw new InvalidDataException($"its epoch counter ({point.EpochsDone}) is outside [1, {_plan.Epochs}]");
                    var reports = MlpModelSerialization.ReadHistory(r);
                    if (reports.Length != point.EpochsDone)
                        throw new InvalidDataException($"it holds {reports.Length} epoch reports for {point.EpochsDone} epochs");
                    history.AddRange(reports);
                    if (r.ReadInt32() != members.Length)
                        throw new InvalidDataException("it is of another ensemble size");
                    foreach (var m in members)
                    {
                        var layers = TrainingCheckpoint.ReadLayers(r, m.Network);
                        for (int l = 0; l < layers.Length; l++)
                            m.Network.SetLayer(l, layers[l].W, layers[l].B);
                        SetTrainerState(m.Trainer, TrainingCheckpoint.ReadBytes(r));
                        m.Schedule.Load(r);
                        Native.Check(NativeMethods.mlp_trainer_set_learning_rate(m.Trainer, m.Schedule.Current));
                    }
                    best.Load(r, Array.ConvertAll(members, m => m.Network));
                }
                catch (Exception e) when (e is EndOfStreamException || e is InvalidDataException || e is FormatException)
                {
                    string why = e is EndOfStreamException ? "it is truncated" : e.Message;
                    throw _ch.Except(e, $"The checkpoint '{path}' cannot be resumed: {why}. Delete it to start anew.");
                }
            // the same minibatch order as an uninterrupted run: the shuffles of the epochs done, replayed
            if (streamed != null)
                streamed.EpochsDone = point.EpochsDone;
            else if (_options.Shuffle)
                for (int e = 0; e < point.EpochsDone; e++)
                    foreach (var m in members)
                        m.Random.Shuffle(m.Order);
            _ch.Info($"Resuming from the checkpoint '{path}' after epoch {point.EpochsDone} of {_plan.Epochs}" +
                (point.Finished && point.EpochsDone < _plan.Epochs ? " (training had stopped early there)." : "."));
            return point;
        }

        private static byte[] TrainerState(TrainerHandle trainer)
        {
            Native.Check(NativeMethods.mlp_trainer_state_size(trainer, out long size));
            var state = new byte[checked((int)size)];
            fixed (byte* p = state)
                Native.Check(NativeMethods.mlp_trainer_get_state(trainer, p, size));
            return state;
        }

        private static void SetTrainerState(TrainerHandle trainer, byte[] state)
        {
            int status;
            fixed (byte* p = state)
                status = NativeMethods.mlp_trainer_set_state(trainer, p, state.Length);
            if (status != 0)
                throw new InvalidDataException($"its optimizer state does not fit this trainer ({Native.LastError})");
        }
    }
}
