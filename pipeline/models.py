"""The campaign's data, parsed from the upstream JSON shapes (camelCase).

Unknown fields are ignored so that upstream may add some without breaking us;
fields the letters or the spreadsheet need are typed and validated here, so a
campaign that cannot be rendered is rejected before any work starts.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel


class Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def to_json(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)


class FileRef(Model):
    """A logo or a signature image: the bytes live in the project's storage under `id`."""

    id: str
    type: str | None = None
    url: str | None = None


class BanAddress(Model):
    label: str
    house_number: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    score: float | None = None


class Owner(Model):
    id: str
    full_name: str
    raw_address: list[str] = Field(default_factory=list)
    ban_address: BanAddress | None = None
    additional_address: str | None = None
    birth_date: date | None = None
    email: str | None = None
    phone: str | None = None
    kind: str | None = None

    @field_validator("raw_address", mode="before")
    @classmethod
    def _none_to_empty(cls, value):
        return value or []

    def postal_lines(self) -> list[str]:
        """The address of the letter, as the replaced system built it."""
        lines = [self.additional_address] if self.additional_address else []
        if self.ban_address and self.ban_address.label.strip():
            lines += _split_ban_label(self.ban_address.label)
        else:
            lines += [line for line in self.raw_address if line and line.strip()]
        return [line.strip() for line in lines]


def _split_ban_label(label: str) -> list[str]:
    # A BAN label reads "12 Rue de la Paix 75002 Paris": the street, then the
    # postal code and city; a window envelope wants them on two lines.
    parts = label.split()
    for i, part in enumerate(parts):
        if len(part) == 5 and part.isdigit() and i > 0:
            return [" ".join(parts[:i]), " ".join(parts[i:])]
    return [label.strip()]


class Housing(Model):
    id: str
    invariant: str | None = None
    local_id: str | None = None
    raw_address: list[str] = Field(default_factory=list)
    geo_code: str | None = None
    plot_id: str | None = None
    cadastral_reference: str | None = None
    housing_kind: str | None = None
    living_area: float | None = None
    rooms_count: int | None = None
    building_year: int | None = None
    vacancy_start_year: int | None = None
    energy_consumption: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    ban_address: BanAddress | None = None
    owner: Owner | None = None

    @field_validator("raw_address", mode="before")
    @classmethod
    def _none_to_empty(cls, value):
        return value or []


class Signatory(Model):
    first_name: str | None = None
    last_name: str | None = None
    role: str | None = None
    file: FileRef | None = None


class Sender(Model):
    name: str | None = None
    service: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    address: str | None = None
    email: str | None = None
    phone: str | None = None
    signatories: list[Signatory] = Field(default_factory=list, max_length=2)

    @field_validator("signatories", mode="before")
    @classmethod
    def _drop_empty(cls, value):
        return [s for s in (value or []) if s]


class Draft(Model):
    id: str
    subject: str = ""
    body: str = ""
    logo: list[FileRef] = Field(default_factory=list, max_length=2)
    sender: Sender | None = None
    written_at: date | None = None
    written_from: str | None = None
    created_at: datetime | None = None

    @field_validator("logo", mode="before")
    @classmethod
    def _none_to_empty(cls, value):
        return value or []

    @field_validator("written_at", mode="before")
    @classmethod
    def _date_of_datetime(cls, value):
        # Upstream sends either "2026-12-04" or a full ISO timestamp.
        if isinstance(value, str) and "T" in value:
            return value.split("T", 1)[0]
        return value


class Campaign(Model):
    # Extra fields are kept: the campaign is sent back upstream with its file key.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    id: str
    title: str
    description: str | None = None
    status: Literal["draft", "sending", "in-progress", "archived"] | None = None
    file: str | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None
    housing_count: int | None = None
    owner_count: int | None = None


class CampaignBundle(Model):
    """Everything a generation needs, fetched once and stored for the later stages."""

    establishment_id: str
    campaign: Campaign
    draft: Draft
    housings: list[Housing]

    def letter_housings(self) -> list[Housing]:
        """Housings that get a letter, in campaign order: those with an owner."""
        return [h for h in self.housings if h.owner is not None]

    def distinct_owners(self) -> list[Owner]:
        seen: dict[str, Owner] = {}
        for housing in self.housings:
            if housing.owner is not None and housing.owner.id not in seen:
                seen[housing.owner.id] = housing.owner
        return list(seen.values())
