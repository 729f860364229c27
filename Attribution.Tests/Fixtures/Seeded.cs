using FsCheck;
using Microsoft.FSharp.Core;

namespace Attribution.Tests.Fixtures;

/// <summary>Random tests with a seed that a failure names and ATTRIBUTION_TEST_SEED replays: every random choice of
/// the test (FsCheck's generator included) is drawn from that one seed.</summary>
public static class Seeded
{
    public const string Variable = "ATTRIBUTION_TEST_SEED";

    /// <summary>The seed of the next random test: ATTRIBUTION_TEST_SEED when set, a fresh one otherwise.</summary>
    public static int NextSeed() =>
        int.TryParse(Environment.GetEnvironmentVariable(Variable), System.Globalization.NumberStyles.Integer,
            System.Globalization.CultureInfo.InvariantCulture, out var fixedSeed)
            ? fixedSeed
            : System.Random.Shared.Next();

    /// <summary>Runs the body with a seed; a failure carries the seed and how to rerun with it.</summary>
    public static async Task RunAsync(Func<int, Task> body)
    {
        var seed = NextSeed();
        try
        {
            await body(seed);
        }
        catch (Exception e)
        {
            throw new SeededFailure(seed, e);
        }
    }

    public static void Run(Action<int> body) =>
        RunAsync(seed =>
        {
            body(seed);
            return Task.CompletedTask;
        }).GetAwaiter().GetResult();

    /// <summary>FsCheck's generator state for a seed.</summary>
    public static Rnd Rnd(int seed) => new((ulong)(uint)seed);

    /// <summary>Checks the property from a seed (replaying FsCheck's run from it), naming the seed on failure.</summary>
    public static void Check(Config config, Property property) => Check(config, property, NextSeed());

    public static void Check(Config config, Property property, int seed)
    {
        try
        {
            FsCheck.Check.One(config.WithReplay(FSharpOption<Replay>.Some(new Replay(Rnd(seed), FSharpOption<int>.None))), property);
        }
        catch (Exception e)
        {
            throw new SeededFailure(seed, e);
        }
    }

    public static void CheckSeeded(this Property property, Config? config = null) =>
        Check(config ?? Config.QuickThrowOnFailure, property);
}

public sealed class SeededFailure(int seed, Exception inner)
    : Exception($"{inner.Message}{Environment.NewLine}(random test with seed {seed}: rerun it with {Seeded.Variable}={seed})", inner)
{
    public int Seed { get; } = seed;

    public override string? StackTrace => InnerException?.StackTrace;
}
