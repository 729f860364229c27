using Attribution.Api.Infrastructure;
using Attribution.Projections.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Attribution.Api.Jobs;

/// <summary>The maintenance jobs as JSON over Hangfire (its dashboard is at /hangfire): schedules, run history, run now,
/// pause and resume, for scripts.</summary>
public static class JobsEndpoints
{
    public static IEndpointRouteBuilder MapJobs(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/jobs").WithTags("Jobs");
        group.MapGet("", List).WithName("Jobs")
            .WithSummary("Every job with its schedule, next run, paused or not, and its last runs (start, duration, state, rows/files touched, error, progress)")
            .WithDescription("runs: how many last runs of each job, 1..100 (default 10).");
        group.MapPost("/{job}/trigger", Trigger).WithName("TriggerJob").RequireAdminKey()
            .WithSummary("Queues a run of a job now; a run already in progress makes it a skipped run (needs X-Admin-Key)");
        group.MapPost("/{job}/pause", Pause).WithName("PauseJob").RequireAdminKey()
            .WithSummary("Stops a job's scheduled runs until resumed; survives restarts (needs X-Admin-Key)");
        group.MapPost("/{job}/resume", Resume).WithName("ResumeJob").RequireAdminKey()
            .WithSummary("Resumes a paused job's schedule (needs X-Admin-Key)");
        return app;
    }

    public sealed record JobCommandResponse(string Job, string Action, string Status);

    /// <summary>The most runs of each job the overview lists.</summary>
    public const int MaxRuns = 100;

    private static async Task<Results<Ok<JobsOverview>, ProblemHttpResult>> List(int? runs, MaintenanceJobs jobs, CancellationToken ct) =>
        runs is < 1 or > MaxRuns
            ? Problems.BadRequest($"'runs' must be between 1 and {MaxRuns}, got {runs}")
            : TypedResults.Ok(await jobs.ListAsync(runs ?? 10, ct));

    private static async Task<Results<Accepted<JobCommandResponse>, ProblemHttpResult>> Trigger(string job, MaintenanceJobs jobs, CancellationToken ct) =>
        Answer(job, "trigger", await jobs.TriggerAsync(job, ct), "queued");

    private static async Task<Results<Accepted<JobCommandResponse>, ProblemHttpResult>> Pause(string job, MaintenanceJobs jobs, CancellationToken ct) =>
        Answer(job, "pause", await jobs.PauseAsync(job, ct), "paused");

    private static async Task<Results<Accepted<JobCommandResponse>, ProblemHttpResult>> Resume(string job, MaintenanceJobs jobs, CancellationToken ct) =>
        Answer(job, "resume", await jobs.ResumeAsync(job, ct), "resumed");

    private static Results<Accepted<JobCommandResponse>, ProblemHttpResult> Answer(string job, string action, JobCommandResult result, string status) =>
        result switch
        {
            JobCommandResult.Done => TypedResults.Accepted("/api/v1/jobs", new JobCommandResponse(job, action, status)),
            JobCommandResult.UnknownJob => Problems.NotFound($"No job is named '{job}'."),
            _ => TypedResults.Problem(new ProblemDetails
            {
                Status = 409, Title = "No job server is running",
                Detail = "No Hangfire server is running on this database (Jobs:Enabled is false everywhere), so nothing would run the job.",
                Type = "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.10",
            }),
        };
}
