using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestCollectionOrderer("Attribution.Tests.Fixtures.ByNameCollectionOrderer", "Attribution.Tests")]
[assembly: TestCaseOrderer("Attribution.Tests.Fixtures.ByNameTestCaseOrderer", "Attribution.Tests")]

namespace Attribution.Tests.Fixtures;

/// <summary>The order the suite runs in: by name, or by name reversed when ATTRIBUTION_TEST_ORDER=reverse. The test
/// script runs both, so a test that passes only when another ran before it (or after it) fails one of the two.</summary>
public static class TestOrder
{
    /// <summary>A trait scripts/test.sh reads: tests marked <see cref="ForwardOnly"/> are left out of its reverse pass.</summary>
    public const string PassTrait = "Pass";

    /// <summary>For a test that shares nothing with any other (its own service, broker, spool and database) and takes
    /// minutes: a second order cannot change its outcome, and running it twice would cost the suite its time limit.</summary>
    public const string ForwardOnly = "ForwardOnly";

    public static bool Reversed =>
        string.Equals(Environment.GetEnvironmentVariable("ATTRIBUTION_TEST_ORDER"), "reverse", StringComparison.OrdinalIgnoreCase);

    public static IEnumerable<T> ByName<T>(IEnumerable<T> items, Func<T, string> name)
    {
        var ordered = items.OrderBy(name, StringComparer.Ordinal).ToList();
        if (Reversed) ordered.Reverse();
        return ordered;
    }
}

/// <summary>Test classes (each its own collection unless it names one) in the order of <see cref="TestOrder"/>.</summary>
public sealed class ByNameCollectionOrderer : ITestCollectionOrderer
{
    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        TestOrder.ByName(testCollections, c => c.DisplayName);
}

/// <summary>The tests of a class (theory cases included) in the order of <see cref="TestOrder"/>.</summary>
public sealed class ByNameTestCaseOrderer : ITestCaseOrderer
{
    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases)
        where TTestCase : ITestCase =>
        TestOrder.ByName(testCases, c => c.DisplayName);
}
