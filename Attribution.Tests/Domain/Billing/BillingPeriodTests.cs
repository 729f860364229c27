using Attribution.Domain.Billing;

namespace Attribution.Tests.Domain.Billing;

/// <summary>Months as billing periods: spelling, closing, and which open month carries a closed month's late events.</summary>
public class BillingPeriodTests
{
    private static BillingPeriod P(string text) => BillingPeriod.TryParse(text, out var p) ? p : throw new ArgumentException(text);

    [Theory]
    [InlineData("2026-11", true)]
    [InlineData("2026-13", false)]
    [InlineData("2026-00", false)]
    [InlineData("2026-1", false)]
    [InlineData("26-11-01", false)]
    [InlineData("+026-11", false)]
    [InlineData("9999-12", false)]
    public void Given_a_text_when_parsed_as_a_period_then_only_yyyy_mm_is_accepted(string text, bool valid)
    {
        Assert.Equal(valid, BillingPeriod.TryParse(text, out _));
    }

    [Fact]
    public void Given_december_when_its_range_is_taken_then_it_ends_at_the_next_january_in_utc()
    {
        var december = P("2026-12");

        Assert.Equal((new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero)), (december.Start, december.End));
        Assert.Equal("2027-01", december.Next.ToString());
        Assert.Equal(december, BillingPeriod.Of(new DateTimeOffset(2026, 12, 31, 21, 30, 0, TimeSpan.FromHours(-2))));
        Assert.Equal("2027-01", BillingPeriod.Of(new DateTimeOffset(2026, 12, 31, 22, 0, 0, TimeSpan.FromHours(-2))).ToString());
    }

    [Fact]
    public void Given_a_month_when_closed_then_it_must_have_ended_and_not_be_closed_already()
    {
        var now = new DateTimeOffset(2026, 12, 5, 4, 0, 0, TimeSpan.Zero);

        Assert.Null(BillingPeriods.CloseError(P("2026-11"), now, alreadyClosed: false));
        Assert.Contains("not ended", BillingPeriods.CloseError(P("2026-12"), now, alreadyClosed: false), StringComparison.Ordinal);
        Assert.Contains("already closed", BillingPeriods.CloseError(P("2026-11"), now, alreadyClosed: true), StringComparison.Ordinal);
    }

    [Fact]
    public void Given_closed_and_open_months_when_an_open_month_is_billed_then_it_corrects_the_closed_months_right_before_it()
    {
        var closed = new HashSet<BillingPeriod> { P("2026-08"), P("2026-10"), P("2026-11") };

        Assert.Equal([P("2026-10"), P("2026-11")], BillingPeriods.CorrectedIn(P("2026-12"), closed));
        Assert.Equal([P("2026-08")], BillingPeriods.CorrectedIn(P("2026-09"), closed));
        Assert.Empty(BillingPeriods.CorrectedIn(P("2027-01"), closed));
    }
}
