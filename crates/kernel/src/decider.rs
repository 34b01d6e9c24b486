//! The decide/evolve pattern: a service's domain is two pure functions, one deciding which
//! events a command produces from the current state, one folding an event into the state.
//! No framework, no I/O; the command handlers do the loading and appending around them.

use std::fmt::Debug;

/// An aggregate's pure logic.
pub trait Decider {
    type State: Default;
    type Command;
    type Event;
    type Error;

    /// Which events `command` produces given `state`, or why it is refused.
    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, Self::Error>;

    /// The state after `event`.
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State;

    /// The state after every event in order, from the default.
    fn fold<'a, I>(events: I) -> Self::State
    where
        I: IntoIterator<Item = &'a Self::Event>,
        Self::Event: 'a,
    {
        events
            .into_iter()
            .fold(Self::State::default(), Self::evolve)
    }
}

/// Starts a given/when/then test: the events that already happened.
pub fn given<D: Decider>(events: Vec<D::Event>) -> Given<D> {
    Given { history: events }
}

/// A test in progress; see [`given`].
#[derive(Debug)]
pub struct Given<D: Decider> {
    history: Vec<D::Event>,
}

impl<D: Decider> Given<D> {
    /// Decides `command` against the folded history.
    pub fn when(self, command: D::Command) -> Then<D> {
        let state = D::fold(&self.history);
        Then {
            outcome: D::decide(&state, &command),
        }
    }
}

/// The outcome of a decision, to assert on.
#[derive(Debug)]
pub struct Then<D: Decider> {
    outcome: Result<Vec<D::Event>, D::Error>,
}

impl<D> Then<D>
where
    D: Decider,
    D::Event: Debug + PartialEq,
    D::Error: Debug + PartialEq,
{
    /// Asserts the command produced exactly `expected`.
    #[track_caller]
    pub fn then(self, expected: Vec<D::Event>) {
        match self.outcome {
            Ok(events) => assert_eq!(events, expected, "the command produced other events"),
            Err(error) => panic!("expected events {expected:?}, the command failed: {error:?}"),
        }
    }

    /// Asserts the command was refused with `expected`.
    #[track_caller]
    pub fn then_error(self, expected: D::Error) {
        match self.outcome {
            Ok(events) => panic!("expected error {expected:?}, the command produced {events:?}"),
            Err(error) => assert_eq!(error, expected, "the command failed differently"),
        }
    }

    /// The raw outcome, for assertions the helpers above do not cover.
    pub fn outcome(self) -> Result<Vec<D::Event>, D::Error> {
        self.outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A counter that cannot go below zero: the smallest aggregate worth testing.
    struct Counter;

    #[derive(Debug, PartialEq)]
    enum Cmd {
        Add(u32),
        Take(u32),
    }

    #[derive(Debug, PartialEq)]
    enum Ev {
        Added(u32),
        Taken(u32),
    }

    #[derive(Debug, PartialEq)]
    enum Err {
        NotEnough { have: u32 },
    }

    impl Decider for Counter {
        type State = u32;
        type Command = Cmd;
        type Event = Ev;
        type Error = Err;

        fn decide(state: &u32, command: &Cmd) -> Result<Vec<Ev>, Err> {
            match *command {
                Cmd::Add(n) => Ok(vec![Ev::Added(n)]),
                Cmd::Take(n) if n > *state => Err(Err::NotEnough { have: *state }),
                Cmd::Take(n) => Ok(vec![Ev::Taken(n)]),
            }
        }

        fn evolve(state: u32, event: &Ev) -> u32 {
            match *event {
                Ev::Added(n) => state + n,
                Ev::Taken(n) => state - n,
            }
        }
    }

    #[test]
    fn an_add_is_recorded() {
        given::<Counter>(vec![])
            .when(Cmd::Add(2))
            .then(vec![Ev::Added(2)]);
    }

    #[test]
    fn a_take_within_the_count_is_recorded() {
        given::<Counter>(vec![Ev::Added(3)])
            .when(Cmd::Take(2))
            .then(vec![Ev::Taken(2)]);
    }

    #[test]
    fn a_take_beyond_the_count_is_refused() {
        given::<Counter>(vec![Ev::Added(3), Ev::Taken(2)])
            .when(Cmd::Take(2))
            .then_error(Err::NotEnough { have: 1 });
    }
}
